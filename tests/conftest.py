"""Shared fixtures: real databases (SQLite and PostgreSQL), a real JWKS server, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.support.app import http_client_for, offline_settings, running_app
from tests.support.databases import (
    PostgresDatabases,
    SQLiteDatabases,
    postgres_server,
)
from tests.support.graphql import GraphQLClient
from tests.support.jwks_server import JWKSServer, SigningKey, mint
from tests.support.token_attacks import Keys


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    with postgres_server() as server_url:
        databases = PostgresDatabases(server_url)
        try:
            yield databases
        finally:
            databases.close()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SQLiteDatabases:
    return SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on SQLite and on PostgreSQL.

    A module about HTTP, tokens or processes, where the engine makes no
    difference, says `pytestmark = pytest.mark.sqlite_only` and runs on SQLite alone;
    a test of PostgreSQL's own behaviour says `pytest.mark.postgresql_only`.
    """
    if "database_url" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("sqlite_only") is not None:
            engines = ["sqlite"]
        elif metafunc.definition.get_closest_marker("postgresql_only") is not None:
            engines = ["postgresql"]
        else:
            engines = ["sqlite", "postgresql"]
        metafunc.parametrize("database_url", engines, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for one test, of the engine `pytest_generate_tests` chose."""
    databases: SQLiteDatabases | PostgresDatabases = request.getfixturevalue(
        {"sqlite": "sqlite_databases", "postgresql": "postgres_databases"}[request.param]
    )
    with databases.fresh() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched, on each engine: for the migrations' tests."""
    if request.param == "sqlite":
        yield SQLiteDatabases.url_of(tmp_path / "empty.sqlite3")
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.empty() as url:
        yield url


@pytest.fixture
def postgres_database_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, for tests that need several processes on one."""
    with postgres_databases.fresh() as url:
        yield url


# RSA key generation is slow; keys are immutable, so every test shares these three.
@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """The issuer's key, the one its JWKS publishes."""
    return SigningKey.generate("key-1")


@pytest.fixture(scope="session")
def second_key() -> SigningKey:
    """A second key the issuer may publish (rotation, ambiguity without a kid)."""
    return SigningKey.generate("key-2")


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    """A key the issuer never published."""
    return SigningKey.generate("attacker-key")


@pytest.fixture
def forgery_keys(signing_key: SigningKey, attacker_key: SigningKey) -> Keys:
    """What the tokens of `tests.support.token_attacks` are made from."""
    return Keys(issuer=signing_key, attacker=attacker_key)


@pytest.fixture
def jwks_server(signing_key: SigningKey) -> Iterator[JWKSServer]:
    with JWKSServer([signing_key]) as server:
        yield server


@pytest.fixture
def settings(database_url: str, jwks_server: JWKSServer, tmp_path: Path) -> Settings:
    """The app's settings for one test (see `offline_settings`)."""
    return offline_settings(database_url, jwks_server.url, tmp_path / "data")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client_for(app) as client:
        yield client


@pytest.fixture
def token_for(signing_key: SigningKey) -> Any:
    """Mint a valid token for a user id: `token_for("user-a")`."""

    def make(sub: str, **claims: Any) -> str:
        return mint(signing_key, sub=sub, **claims)

    return make


@pytest.fixture
def graphql(http: httpx.AsyncClient, token_for: Any) -> GraphQLClient:
    """A GraphQL client signed in as "user-a"; `.as_user("user-b")` for another."""
    return GraphQLClient(http, token_for, "user-a")
