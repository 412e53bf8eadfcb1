"""Helpers the security tests share: what a refused request looks like, attacker keys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.databases import SQLiteDatabases
from tests.support.jwks_server import SigningKey


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    """A key the issuer never published."""
    return SigningKey.generate("attacker-key")


@pytest.fixture(scope="session")
def second_key() -> SigningKey:
    """A second key the issuer publishes (rotation, ambiguity without a kid)."""
    return SigningKey.generate("test-key-2")


@pytest.fixture
def sqlite_only_database_url(sqlite_databases: SQLiteDatabases) -> Iterator[str]:
    """For tests about HTTP and tokens, where the database engine makes no difference."""
    with sqlite_databases.fresh() as url:
        yield url


def assert_refused(response: httpx.Response) -> None:
    """HTTP 401, the Bearer challenge, one UNAUTHENTICATED error and no data."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
