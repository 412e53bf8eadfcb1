"""PostgreSQL write transactions run on the asyncpg connection, and behave as the engine's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.availability import is_database_unavailable
from db.change_feed import PostgresChangeFeed
from db.engine import (
    Transaction,
    create_engine,
    read_transaction,
    write_transaction,
)
from db.models import onboarding_progress
from db.progress_repository import create_progress, get_progress
from db.records import ProgressRecord
from db.timeouts import DatabaseTimeouts
from tests.reliability.own_postgres import OwnPostgres
from tests.support.stored_progress import (
    STARTED,
    assert_stored_as_through_engine,
    assert_written_on_the_driver,
    store_progress_with_data,
)

BACKEND = text("SELECT pg_backend_pid()")


@pytest.fixture
async def engine(postgres_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_database_url)
    yield engine
    await engine.dispose()


async def _read(engine: AsyncEngine, user_id: str) -> ProgressRecord | None:
    async with read_transaction(engine) as connection:
        return await get_progress(connection, user_id)


async def _backend(connection: Transaction) -> int:
    pid: int = (await connection.execute(BACKEND)).scalar_one()
    return pid


class RefusedError(Exception):
    """What a transaction's own code raised."""


async def _write_then_fail(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as connection:
        await create_progress(connection, "abandoned", range(1, 7), STARTED)
        raise RefusedError


async def _insert(engine: AsyncEngine, row: dict[str, Any]) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(insert(onboarding_progress), row)


async def _backend_of_a_write(engine: AsyncEngine) -> int:
    async with write_transaction(engine) as connection:
        return await _backend(connection)


async def test_a_write_runs_its_statements_on_the_driver_not_through_the_engine(
    engine: AsyncEngine,
) -> None:
    # when a user's progress is created and two steps changed in one transaction, then
    # none of its statements went through the engine's execution machinery
    await assert_written_on_the_driver(engine, "user-a")


async def test_a_lock_goes_with_the_begin_and_an_announcement_with_the_commit(
    engine: AsyncEngine,
) -> None:
    # given every query the driver sends, as asyncpg's own query log reports them
    sent: list[str] = []

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda query: sent.append(query.query))

    event.listen(engine.sync_engine, "connect", log_queries)
    await _backend_of_a_write(engine)
    await asyncio.sleep(0)  # asyncpg tells its loggers on the loop's next turn
    sent.clear()
    # when a transaction serialised by a lock writes and announces the change
    feed = PostgresChangeFeed(engine)
    try:
        async with write_transaction(engine, serialised_by="tests.write") as connection:
            await create_progress(connection, "announced", range(1, 7), STARTED)
            await feed.announce_on_commit(connection, "progress:announced")
    finally:
        await feed.close()
    await asyncio.sleep(0)
    # then the lock took no round trip of its own, nor did the NOTIFY
    assert sent[0].startswith("BEGIN;SELECT pg_advisory_xact_lock(")
    assert sent[-1] == "SELECT pg_notify('onboarding_changes', 'progress:announced');COMMIT"
    between = sent[1:-1]
    assert between
    assert all(query.startswith("INSERT INTO onboarding_") for query in between), between
    # and the change was stored
    assert await _read(engine, "announced") is not None


async def test_a_write_stores_exactly_what_the_engine_would(engine: AsyncEngine) -> None:
    # given the same change written on the driver and through the engine
    async with write_transaction(engine) as connection:
        await store_progress_with_data(connection, "on-driver")
    # then both read back alike: JSON, bytes, a list, timestamps and the version
    await assert_stored_as_through_engine(engine, "on-driver")


async def test_a_failed_write_leaves_nothing_behind_and_its_connection_serves_the_next(
    engine: AsyncEngine,
) -> None:
    first_backend = await _backend_of_a_write(engine)

    # when a transaction fails after it wrote
    with pytest.raises(RefusedError):
        await _write_then_fail(engine)
    # then nothing of it was stored
    assert await _read(engine, "abandoned") is None
    # and a duplicate key is SQLAlchemy's IntegrityError, as through the engine
    row = {"user_id": "taken", "version": 1, "started_at": STARTED, "updated_at": STARTED}
    await _insert(engine, row)
    with pytest.raises(IntegrityError):
        await _insert(engine, row)
    # and the connection, rolled back each time, commits the next transaction (in an
    # aborted one left open, its statements would fail)
    async with write_transaction(engine) as connection:
        assert await _backend(connection) == first_backend
        await create_progress(connection, "next", range(1, 7), STARTED)
    assert await _read(engine, "next") is not None
    async with read_transaction(engine) as reader:
        count = select(func.count()).select_from(onboarding_progress)
        assert (await reader.execute(count)).scalar_one() == 2


QUICK_STATEMENTS = DatabaseTimeouts(connect_seconds=1.0, statement_seconds=0.2, pool_seconds=3.0)


async def test_a_write_over_budget_is_cancelled_by_the_server_and_the_connection_kept(
    postgres_database_url: str,
) -> None:
    engine = create_engine(postgres_database_url, QUICK_STATEMENTS)
    try:
        first_backend = await _backend_of_a_write(engine)
        # when a statement of a write takes longer than the statement budget
        with pytest.raises(asyncpg.QueryCanceledError) as raised:
            await _write_that_sleeps(engine)
        # then the error says the database is unavailable (HTTP 503, not a 500)
        assert is_database_unavailable(raised.value)
        # and the server cancelled it, so the same connection, rolled back, serves the next
        assert await _backend_of_a_write(engine) == first_backend
    finally:
        await engine.dispose()


async def _write_that_sleeps(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as connection:
        await connection.execute(text("SELECT pg_sleep(1)"))


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as server:
        yield server


async def _write_that_freezes(engine: AsyncEngine, server: OwnPostgres) -> None:
    async with write_transaction(engine) as connection:
        server.freeze()
        try:
            await asyncio.wait_for(_backend(connection), timeout=30)
        finally:
            server.thaw()


FROZEN_TIMEOUTS = DatabaseTimeouts(connect_seconds=1.0, statement_seconds=1.0, pool_seconds=5.0)
# The client's deadline for a statement: the server's, plus a margin for it to answer.
CLIENT_DEADLINE_SECONDS = 1.5


class ConflictError(Exception):
    """A transaction's own reason to roll back, which its caller would retry."""


async def _write_that_fails_as_the_server_freezes(engine: AsyncEngine, server: OwnPostgres) -> None:
    try:
        async with write_transaction(engine) as connection:
            await _backend(connection)
            server.freeze()
            raise ConflictError  # its ROLLBACK meets the frozen server
    finally:
        server.thaw()


@pytest.mark.parametrize(
    ("frozen_write", "own_reason"),
    [(_write_that_freezes, None), (_write_that_fails_as_the_server_freezes, ConflictError)],
)
async def test_a_write_on_a_frozen_postgresql_gives_up_at_its_deadline_and_drops_the_connection(
    own_postgres: OwnPostgres,
    frozen_write: Callable[[AsyncEngine, OwnPostgres], Awaitable[None]],
    own_reason: type[Exception] | None,
) -> None:
    # given writes on a PostgreSQL of this test's own, one connection already open
    engine = create_engine(own_postgres.url(), FROZEN_TIMEOUTS)
    try:
        first_backend = await _backend_of_a_write(engine)
        # when the server freezes in the middle of a transaction (SIGSTOP: the
        # connection stays open, nothing answers), or as one fails for its own reason
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            await frozen_write(engine, own_postgres)
        gave_up_after = time.monotonic() - started
        # then the write is told "unavailable" once its statement's deadline passed, and
        # not politely closed after it; a transaction's own reason to fail, which its
        # caller would retry against the frozen server, is only the cause
        assert is_database_unavailable(raised.value)
        assert gave_up_after < 2 * CLIENT_DEADLINE_SECONDS
        if own_reason is not None:
            assert isinstance(raised.value.__cause__, own_reason)
        # and that connection was dropped: once thawed, a new one serves the next write
        assert await _backend_of_a_write(engine) != first_backend
    finally:
        await engine.dispose()
