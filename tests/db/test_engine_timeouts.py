"""Each place the database can stall a request gives up, and says "unavailable" when it does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.availability import is_database_unavailable
from db.engine import create_engine, write_transaction
from db.timeouts import DEFAULT_STATEMENT_SECONDS, DatabaseTimeouts
from db.writer_queue import WriterQueueTimeoutError
from tests.support.databases import SQLiteDatabases

QUICK = DatabaseTimeouts(connect_seconds=2, statement_seconds=0.2, pool_seconds=0.2)


def _connections_opened(engine: AsyncEngine) -> list[object]:
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _: opened.append(connection))
    return opened


async def test_postgresql_connections_carry_the_statement_timeout(
    postgres_database_url: str,
) -> None:
    # given an engine with the default timeouts
    engine = create_engine(postgres_database_url)
    try:
        # when a connection asks the server for its statement timeout
        async with engine.connect() as connection:
            milliseconds = (
                await connection.execute(
                    text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    # then it is the service's statement budget
    assert int(milliseconds) == round(DEFAULT_STATEMENT_SECONDS * 1000) == 1500


async def test_a_statement_over_budget_is_cancelled_by_the_server_and_the_connection_kept(
    postgres_database_url: str,
) -> None:
    # given an engine whose statements may take 0.2 s
    engine = create_engine(postgres_database_url, QUICK)
    opened = _connections_opened(engine)
    try:
        # when a statement takes longer
        with pytest.raises(exc.DBAPIError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT pg_sleep(5)"))
        # then the error says the database is unavailable (HTTP 503, not a 500)
        assert is_database_unavailable(raised.value)
        # and the server cancelled it, so the same connection serves the next request
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
        assert len(opened) == 1
    finally:
        await engine.dispose()


async def test_a_connection_back_in_the_pool_moments_ago_is_not_pinged_and_an_idle_one_is(
    postgres_database_url: str,
) -> None:
    # given an engine whose connections report the queries sent outside a prepared
    # statement: a ping, and the BEGIN and ROLLBACK around each transaction
    engine = create_engine(postgres_database_url, pool_size=1, max_overflow=0)
    sent: list[str] = []

    def report(dbapi_connection: Any, _record: object) -> None:
        driver = dbapi_connection.driver_connection
        driver.add_query_logger(lambda logged: sent.append(logged.query))

    event.listen(engine.sync_engine, "connect", report)
    try:
        # when one connection serves three transactions in a row
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 2"))
        # then none of them was preceded by a ping
        assert sent == ["BEGIN;", "ROLLBACK;"] * 3, sent
        # when it then sits in the pool for longer than a second and is taken again
        await asyncio.sleep(1.2)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 2"))
        # then it is pinged first
        assert sent[6:] == ["SELECT 1", "BEGIN;", "ROLLBACK;"], sent
    finally:
        await engine.dispose()


async def test_a_request_that_waits_too_long_for_a_pooled_connection_is_told_unavailable(
    database_url: str,
) -> None:
    # given a pool of one connection, taken
    engine = create_engine(database_url, QUICK, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            # when another request wants one / then it gives up and says "unavailable"
            with pytest.raises(exc.TimeoutError) as raised:
                async with engine.connect():
                    pass
        assert is_database_unavailable(raised.value)
    finally:
        await engine.dispose()


async def test_a_sqlite_writer_that_waits_too_long_for_its_turn_is_told_unavailable(
    sqlite_databases: SQLiteDatabases,
) -> None:
    with sqlite_databases.fresh() as database_url:
        # given a writer of this process holding its turn
        engine = create_engine(database_url, QUICK)
        holding = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with write_transaction(engine):
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        try:
            await holding.wait()
            # when another writer arrives / then it gives up waiting, saying "unavailable"
            with pytest.raises(WriterQueueTimeoutError) as raised:
                async with write_transaction(engine):
                    pass
            assert is_database_unavailable(raised.value)
        finally:
            release.set()
            await holder
            await engine.dispose()
