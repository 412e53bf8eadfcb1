"""DESIGN §5: the issuer's keys rotate, get withdrawn, get hammered and go down; we cope."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.settings import Settings
from tests.support.app import serving, settings_with
from tests.support.jwks_server import JWKSServer, SigningKey, mint
from tests.support.token_attacks import assert_refused

VIEWER = "{ viewer { id } }"
REFRESH_SECONDS = 0.3
COOLDOWN_SECONDS = 0.5
STORM_COOLDOWN_SECONDS = 4.0


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JWKSServer]:
    with JWKSServer([signing_key]) as server:
        yield server


settings = settings_with(
    jwks_refresh_seconds=REFRESH_SECONDS, jwks_unknown_kid_cooldown_seconds=COOLDOWN_SECONDS
)


@pytest.fixture
async def started_in_outage(
    settings: Settings, jwks_server: JWKSServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service, started while the issuer's JWKS endpoint was down."""
    jwks_server.stop()
    async with serving(settings) as http:
        yield http


async def ask(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
    )


async def back_after_cooldown(jwks_server: JWKSServer) -> None:
    """The issuer answers again (at the same address), and the key fetch cooldown has passed."""
    jwks_server.start()
    await asyncio.sleep(COOLDOWN_SECONDS + 0.1)


async def assert_verified(http: httpx.AsyncClient, key: SigningKey) -> None:
    """A token signed by `key` is verified: user-a sees their viewer."""
    response = await ask(http, mint(key))
    assert response.json() == {"data": {"viewer": {"id": "user-a"}}}


async def test_rotation_then_withdrawal_of_the_old_key(
    http: httpx.AsyncClient,
    jwks_server: JWKSServer,
    signing_key: SigningKey,
    second_key: SigningKey,
) -> None:
    # given a warm cache holding the old key
    assert (await ask(http, mint(signing_key))).status_code == 200
    # when the issuer adds a new key (rotation starts)
    jwks_server.keys.append(second_key)
    # then tokens signed with the new key are accepted and the old key keeps working
    new = await ask(http, mint(second_key, sub="user-new"))
    assert new.json() == {"data": {"viewer": {"id": "user-new"}}}
    assert (await ask(http, mint(signing_key))).status_code == 200
    # when the issuer withdraws the old key and the next refresh has happened
    jwks_server.keys.remove(signing_key)
    await asyncio.sleep(REFRESH_SECONDS + 0.1)
    assert (await ask(http, mint(second_key))).status_code == 200  # this request refreshes
    # then the withdrawn key no longer verifies, the new one still does
    assert_refused(await ask(http, mint(signing_key)))
    assert (await ask(http, mint(second_key))).status_code == 200


async def test_an_unknown_kid_storm_costs_one_fetch_per_cooldown(
    settings: Settings, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given a warm cache with no periodic refresh due, and a cooldown long enough
    # that two storms fit inside it even on a loaded machine
    storm_settings = settings.model_copy(
        update={
            "jwks_refresh_seconds": 300,
            "jwks_unknown_kid_cooldown_seconds": STORM_COOLDOWN_SECONDS,
        }
    )
    async with serving(storm_settings) as http:
        assert (await ask(http, mint(signing_key))).status_code == 200
        before = jwks_server.fetch_count

        async def storm() -> None:
            tokens = [mint(signing_key, headers={"kid": f"made-up-{n}"}) for n in range(40)]
            for response in await asyncio.gather(*(ask(http, token) for token in tokens)):
                assert_refused(response)

        # when 40 concurrent requests name unknown kids, twice within one cooldown
        started = time.monotonic()
        await storm()
        await storm()
        assert time.monotonic() - started < STORM_COOLDOWN_SECONDS, "storms outlasted the cooldown"
        # then the issuer was asked at most once
        assert jwks_server.fetch_count - before <= 1
        # and once the cooldown has passed, another storm costs at most one more fetch
        await asyncio.sleep(STORM_COOLDOWN_SECONDS + 0.1)
        after_first_window = jwks_server.fetch_count
        await storm()
        assert jwks_server.fetch_count - after_first_window <= 1


async def test_an_issuer_outage_at_start_up_is_reported_and_recovered_from(
    started_in_outage: httpx.AsyncClient, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given the issuer's JWKS endpoint is down when the service starts
    http = started_in_outage
    # then the service is up but says why it is not ready
    assert (await http.get("/healthz")).status_code == 200
    readiness = await http.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json()["status"] == "unavailable"
    assert readiness.json()["jwks"] == "unavailable"
    # and a signed-in request gets 503 with a code saying to retry, not to log in again
    refused = await ask(http, mint(signing_key))
    assert refused.status_code == 503
    assert refused.headers["retry-after"]
    assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert refused.json().get("data") is None
    # when the issuer comes back (same address) and the fetch cooldown has passed
    await back_after_cooldown(jwks_server)
    # then readiness and requests recover with no restart
    assert (await http.get("/readyz")).json() == {"status": "ready", "database": "ok"}
    await assert_verified(http, signing_key)


async def test_requests_alone_recover_from_an_outage_at_start_up(
    started_in_outage: httpx.AsyncClient, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given a service started while the issuer was down, and no probe running
    assert (await ask(started_in_outage, mint(signing_key))).status_code == 503
    # when the issuer comes back and the fetch cooldown has passed
    await back_after_cooldown(jwks_server)
    # then the next request is verified
    await assert_verified(started_in_outage, signing_key)


async def test_a_forged_token_during_the_outage_is_still_not_anonymous(
    started_in_outage: httpx.AsyncClient, attacker_key: SigningKey
) -> None:
    # given the issuer is down at start-up
    # when a token from a foreign issuer arrives / then it is refused outright (401),
    # without waiting for keys: the issuer is pinned before any key is looked up
    assert_refused(await ask(started_in_outage, mint(attacker_key, iss="https://evil.test")))
