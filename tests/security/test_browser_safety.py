"""What a browser may do: CORS only for configured origins; GraphiQL, introspection, production."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.factory import create_app
from app.settings import Settings
from tests.support.app import serving
from tests.support.server_process import CLI, clean_environment, free_port

ALLOWED = "https://app.onboarding.test"
EVIL = "https://evil.test"
INTROSPECT = "{ __schema { queryType { name } } }"


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_cors_answers_only_the_configured_origins(settings: Settings) -> None:
    # given a service that allows one browser origin
    async with serving(settings.model_copy(update={"cors_origins": [ALLOWED]})) as http:
        # when that origin preflights a POST with a bearer token / then it is allowed
        allowed = await http.options("/graphql", headers=preflight(ALLOWED))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        # when another origin preflights / then it gets no allowance
        refused = await http.options("/graphql", headers=preflight(EVIL))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        # and responses to actual requests are readable by the allowed origin only
        for origin, readable in ((ALLOWED, True), (EVIL, False)):
            response = await http.post(
                "/graphql", json={"query": INTROSPECT}, headers={"origin": origin}
            )
            assert ("access-control-allow-origin" in response.headers) is readable
            assert response.headers.get("access-control-allow-origin") in (None, ALLOWED)


async def test_without_configured_origins_no_origin_is_allowed(settings: Settings) -> None:
    async with serving(settings) as http:
        response = await http.options("/graphql", headers=preflight(ALLOWED))
        assert "access-control-allow-origin" not in response.headers
        posted = await http.post("/graphql", json={"query": INTROSPECT}, headers={"origin": EVIL})
        assert "access-control-allow-origin" not in posted.headers


async def test_a_refused_content_type_still_tells_the_allowed_origin_why(
    settings: Settings,
) -> None:
    async with serving(settings.model_copy(update={"cors_origins": [ALLOWED]})) as http:
        response = await http.post(
            "/graphql",
            content=b'{"query": "{ viewer { id } }"}',
            headers={"origin": ALLOWED, "content-type": "text/plain"},
        )
    assert response.status_code == 415
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def open_graphiql(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/graphql", headers={"accept": "text/html"})


async def test_graphiql_can_be_turned_off(settings: Settings) -> None:
    # given GraphiQL on (the default) / then browsers get it
    async with serving(settings) as http:
        on = await open_graphiql(http)
    assert on.status_code == 200
    assert "graphiql" in on.text.lower()
    # given ONBOARDING_GRAPHIQL=false / then no IDE page is served
    async with serving(settings.model_copy(update={"graphiql": False})) as http:
        off = await open_graphiql(http)
    assert "graphiql" not in off.text.lower()
    assert not off.headers.get("content-type", "").startswith("text/html")


async def test_introspection_can_be_turned_off(settings: Settings) -> None:
    # given ONBOARDING_INTROSPECTION=false
    async with serving(settings.model_copy(update={"introspection": False})) as http:
        # when the schema is asked for / then it is refused and nothing of it is returned
        response = await http.post("/graphql", json={"query": INTROSPECT})
        body = response.json()
        assert body.get("data") is None
        assert "Query" not in response.text
        type_query = await http.post(
            "/graphql", json={"query": '{ __type(name: "Viewer") { fields { name } } }'}
        )
        assert type_query.json().get("data") is None
    # and with the default it answers
    async with serving(settings) as http:
        response = await http.post("/graphql", json={"query": INTROSPECT})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"jwks_url": None, "jwt_issuer": None}, "ONBOARDING_JWKS_URL"),
        ({"secret_key": None}, "ONBOARDING_SECRET_KEY"),
        ({"jwt_issuer": None}, "ONBOARDING_JWT_ISSUER"),
    ],
)
def test_production_refuses_the_dev_issuer_and_a_missing_secret(
    settings: Settings, changes: dict[str, object], missing: str
) -> None:
    # given production settings that lack one thing / when an app is made from them
    values = {**settings.model_dump(), "env": "production", **changes}
    # then no app is made, and the error names what is missing
    with pytest.raises(ValidationError, match=missing):
        create_app(Settings(**values))


def test_production_settings_that_are_complete_make_an_app(settings: Settings) -> None:
    values = {
        **settings.model_dump(),
        "env": "production",
        "jwks_url": "https://issuer.test/.well-known/jwks.json",
        "jwt_audience": "https://api.onboarding.test",
    }
    assert create_app(Settings(**values)).state.runtime.dev_issuer is None


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["dev-token", "--sub", "user-a"]])
def test_the_cli_refuses_production_without_an_issuer(tmp_path: Path, command: list[str]) -> None:
    # given ONBOARDING_ENV=production and neither JWKS URL nor secret key
    environment = clean_environment(
        {"ONBOARDING_ENV": "production", "ONBOARDING_DATA_DIR": str(tmp_path / "data")}
    )
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    # when the service is started / then it exits at once saying why, and made no dev key
    done = subprocess.run(
        [CLI, *command], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "ONBOARDING_JWKS_URL" in done.stderr
    assert "ONBOARDING_SECRET_KEY" in done.stderr
    assert not (tmp_path / "data" / "dev-issuer-key.pem").exists()
