"""Production refuses to start on weak settings, and says which."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.factory import create_app
from app.settings import Settings
from resolvers.secrets import SecretBox
from tests.support.server_process import CLI, clean_environment, free_port

JWKS_URL = "https://issuer.test/.well-known/jwks.json"


def production(**changes: Any) -> dict[str, Any]:
    """Settings production accepts (a value of None leaves that setting out)."""
    values: dict[str, Any] = {
        "env": "production",
        "database_url": "postgresql+asyncpg://onboarding@db.internal/onboarding",
        "jwks_url": JWKS_URL,
        "jwt_issuer": "https://issuer.test",
        "jwt_audience": "https://api.onboarding.test",
        "secret_key": SecretBox.generate_key(),
        **changes,
    }
    return {name: value for name, value in values.items() if value is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"jwt_audience": None, "authorized_parties": ["https://app.onboarding.test"]},
        {"jwks_url": "https://issuer.test:8443/jwks?tenant=a"},
    ],
    ids=["audience", "authorized parties", "port and query"],
)
def test_complete_production_settings_make_an_app(changes: dict[str, Any]) -> None:
    assert create_app(Settings(**production(**changes))).state.runtime.dev_issuer is None


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"database_url": None}, "ONBOARDING_DATABASE_URL must be set"),
        (
            {"jwt_audience": None},
            "ONBOARDING_JWT_AUDIENCE or ONBOARDING_AUTHORIZED_PARTIES must be set",
        ),
        ({"jwks_url": "http://issuer.test/.well-known/jwks.json"}, "must be an https:// URL"),
        ({"jwks_url": "issuer.test/.well-known/jwks.json"}, "must be an https:// URL"),
        ({"jwks_url": "https:///.well-known/jwks.json"}, "not a well-formed URL"),
        ({"jwks_url": "https://[::1/.well-known/jwks.json"}, "not a well-formed URL"),
        ({"jwks_url": "https://issuer.test:99999/jwks.json"}, "not a well-formed URL"),
        ({"jwks_url": "https://issuer.test/jwks.json\n"}, "not a well-formed URL"),
        ({"jwks_url": "https://issuer test/jwks.json"}, "not a well-formed URL"),
    ],
    ids=[
        "no database URL",
        "neither audience nor authorized parties",
        "JWKS over http",
        "JWKS URL without a scheme",
        "JWKS URL without a host",
        "JWKS URL with a broken IPv6 host",
        "JWKS URL with an impossible port",
        "JWKS URL with a newline",
        "JWKS URL with a space",
    ],
)
def test_production_refuses_weak_settings(changes: dict[str, Any], refusal: str) -> None:
    # given production settings with one weakness / when they are loaded
    with pytest.raises(ValidationError) as refused:
        Settings(**production(**changes))
    # then they are refused, and the error says what to fix
    assert "production refuses to start" in str(refused.value)
    assert refusal in str(refused.value)


def test_development_accepts_what_production_refuses() -> None:
    # given the same weaknesses in development (a local issuer, the SQLite file)
    development = Settings(
        **production(
            env="development",
            database_url=None,
            jwt_audience=None,
            jwks_url="http://127.0.0.1:8080/.well-known/jwks.json",
        )
    )
    # then they are allowed: they are what development is for
    assert development.resolved_database_url.startswith("sqlite+aiosqlite:///")


def test_serve_exits_with_every_weakness_and_no_traceback(tmp_path: Path) -> None:
    # given production with a plain-http JWKS URL, no database URL and no audience
    environment = clean_environment(
        {
            "ONBOARDING_ENV": "production",
            "ONBOARDING_DATA_DIR": str(tmp_path / "data"),
            "ONBOARDING_JWKS_URL": "http://issuer.test/.well-known/jwks.json",
            "ONBOARDING_JWT_ISSUER": "https://issuer.test",
            "ONBOARDING_SECRET_KEY": SecretBox.generate_key(),
        }
    )
    # when the service is started
    done = subprocess.run(
        [CLI, "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then it exits at once, naming each weakness in plain words
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "production refuses to start" in done.stderr
    for refusal in (
        "ONBOARDING_DATABASE_URL must be set",
        "ONBOARDING_JWKS_URL must be an https:// URL",
        "ONBOARDING_JWT_AUDIENCE or ONBOARDING_AUTHORIZED_PARTIES must be set",
    ):
        assert refusal in done.stderr
    # and it made nothing: no SQLite file, no dev key
    assert not (tmp_path / "data").exists()
