"""The README's first command on a fresh machine: no environment, embedded defaults."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.server_process import clean_environment, post_with_dev_token, serve

QUERY = (
    "{ viewer { id onboarding { currentStep completionPercentage steps { number key status } } } }"
)


def test_the_service_starts_on_embedded_defaults_and_serves_a_dev_token(tmp_path: Path) -> None:
    # given an empty directory and no ONBOARDING_ settings at all
    environment = clean_environment()
    with serve(tmp_path, environment) as base_url:
        # when a developer asks the CLI for a token and queries with it
        response = post_with_dev_token(
            base_url, {"query": QUERY}, minted_in=tmp_path, env=environment
        )
        # then they see their fresh onboarding
        viewer = response.json()["data"]["viewer"]
        assert viewer["id"] == "u1"
        assert viewer["onboarding"]["currentStep"] == 1
        assert viewer["onboarding"]["completionPercentage"] == 0.0
        assert [step["status"] for step in viewer["onboarding"]["steps"]] == ["PENDING"] * 6
        # and GraphiQL, the dev JWKS and readiness are there for a browser
        graphiql = httpx.get(f"{base_url}/graphql", headers={"accept": "text/html"}, timeout=10)
        assert graphiql.status_code == 200
        assert "graphiql" in graphiql.text.lower()
        jwks = httpx.get(f"{base_url}/.well-known/jwks.json", timeout=10).json()
        assert [key["kty"] for key in jwks["keys"]] == ["RSA"]
        assert httpx.get(f"{base_url}/readyz", timeout=10).json()["status"] == "ready"
    # and everything it keeps lives under ./.onboarding
    kept = {path.name for path in (tmp_path / ".onboarding").iterdir()}
    assert "onboarding.sqlite3" in kept


def test_a_token_from_another_data_directory_is_refused(tmp_path: Path) -> None:
    # given a service and a token minted by a different dev issuer
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    environment = clean_environment()
    with serve(tmp_path / "a", environment) as base_url:
        response = post_with_dev_token(
            base_url, {"query": "{ viewer { id } }"}, minted_in=tmp_path / "b", env=environment
        )
        # then it is refused: the dev issuer is a real issuer, not a bypass
        assert response.status_code == 401
