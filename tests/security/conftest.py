"""Fixtures the security tests share: a second published key, an SQLite-only database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import SQLiteDatabases
from tests.support.jwks_server import SigningKey


@pytest.fixture(scope="session")
def second_key() -> SigningKey:
    """A second key the issuer publishes (rotation, ambiguity without a kid)."""
    return SigningKey.generate("test-key-2")


@pytest.fixture
def sqlite_only_database_url(sqlite_databases: SQLiteDatabases) -> Iterator[str]:
    """For tests about HTTP and tokens, where the database engine makes no difference."""
    with sqlite_databases.fresh() as url:
        yield url
