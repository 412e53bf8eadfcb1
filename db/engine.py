"""Async engines and the two kinds of transaction the service runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

_WRITE = "onboarding_write"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`, tuned so SQLite behaves under concurrent writers."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _take_over_sqlite_transactions(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, **kwargs)


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    # pysqlite opens transactions lazily and as DEFERRED: two writers that both
    # read first then deadlock on the lock upgrade, and SQLite answers one of
    # them "database is locked" at once instead of waiting. Writers therefore
    # begin IMMEDIATE (they queue on busy_timeout). Readers need no BEGIN at
    # all: each of their statements reads one consistent WAL snapshot, and
    # skipping it saves a round trip per request.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One transaction that will write; committed on success, rolled back on error."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Read by SQLite's begin listener only (BEGIN IMMEDIATE); elsewhere it
            # would cost a greenlet round trip per transaction for nothing.
            await connection.execution_options(**{_WRITE: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only unit of work (on SQLite, statements run outside any transaction)."""
    async with engine.begin() as connection:
        yield connection
