"""Before the issuer's keys were ever fetched, traffic cannot make us hammer it.

Requests with the right `iss` and anonymous readiness probes all wait out the
same cooldown after a failed fetch, and `/readyz` names the failing part only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.support.app import serving, settings_with
from tests.support.jwks_server import JWKSServer, SigningKey, mint

# Long enough that every request below falls inside one cooldown, however loaded
# the machine; recovery once a (short) cooldown has passed is in test_jwks_resilience.
COOLDOWN_SECONDS = 600.0
VIEWER = "{ viewer { id } }"
NOT_READY = {"status": "unavailable", "database": "ok", "jwks": "unavailable"}


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


settings = settings_with(jwks_unknown_kid_cooldown_seconds=COOLDOWN_SECONDS)


async def ask(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_down_issuer_is_asked_once_however_many_requests_and_probes_come(
    settings: Settings, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given an issuer whose JWKS endpoint answers 503 when the service starts
    jwks_server.failing_with = 503
    async with serving(settings) as http:
        assert jwks_server.fetch_count == 1  # the start-up prefetch
        token = mint(signing_key)
        # when 300 signed-in requests arrive, 100 at a time, and 20 anonymous probes
        for _ in range(3):
            for response in await asyncio.gather(*(ask(http, token) for _ in range(100))):
                assert_unavailable(response)
        probes = [await http.get("/readyz") for _ in range(20)]
        # then the issuer was not asked again
        assert jwks_server.fetch_count == 1
        # and each probe says the keys are unavailable, and nothing else
        for probe in probes:
            assert probe.status_code == 503
            assert probe.json() == NOT_READY
        # when the issuer is back within the cooldown / then it is still not asked
        jwks_server.failing_with = None
        assert_unavailable(await ask(http, token))
        assert (await http.get("/readyz")).json() == NOT_READY
        assert jwks_server.fetch_count == 1


async def test_readiness_shows_no_configuration_and_no_error_text(
    settings: Settings, jwks_server: JWKSServer
) -> None:
    # given the issuer's keys cannot be fetched
    jwks_server.stop()
    async with serving(settings) as http:
        # when an anonymous caller asks whether the service is ready
        probe = await http.get("/readyz")
    # then it learns which part is down, and not where the issuer is or what failed
    assert probe.status_code == 503
    assert probe.json() == NOT_READY
    for secret in (jwks_server.url, "127.0.0.1", "jwks.json", "ClientConnectorError", "JWKS"):
        assert secret not in probe.text


async def test_readiness_shows_no_database_error_either(settings: Settings, tmp_path: Path) -> None:
    # given a database that cannot be opened
    missing = tmp_path / "no-such-directory" / "onboarding.sqlite3"
    async with serving(
        settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{missing}"})
    ) as http:
        # when an anonymous caller asks whether the service is ready
        probe = await http.get("/readyz")
    # then it learns that the database is unavailable, and nothing about it
    assert probe.status_code == 503
    assert probe.json() == {"status": "unavailable", "database": "unavailable"}
    assert "sqlite" not in probe.text.lower()
    assert "Error" not in probe.text
