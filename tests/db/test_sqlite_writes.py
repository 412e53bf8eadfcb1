"""SQLite write transactions run on the event loop, never make it wait, and store what the
engine would."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, write_transaction
from db.models import onboarding_progress
from db.progress_repository import create_progress, get_progress
from db.sqlite_writes import COMMITS_PER_CHECKPOINT
from db.timeouts import DatabaseTimeouts
from resolvers.steps import STEP_NUMBERS
from tests.support.databases import SQLiteDatabases
from tests.support.stored_progress import (
    STARTED,
    assert_stored_as_through_engine,
    assert_written_on_the_driver,
)

pytestmark = pytest.mark.sqlite_only

PATIENT = DatabaseTimeouts(statement_seconds=10, pool_seconds=10)


@pytest.fixture
async def engine(sqlite_databases: SQLiteDatabases) -> AsyncIterator[AsyncEngine]:
    """A fresh SQLite database's engine, patient enough for every wait these tests make."""
    with sqlite_databases.fresh() as database_url:
        engine = create_engine(database_url, PATIENT)
        yield engine
        await engine.dispose()


def _path(engine: AsyncEngine) -> str:
    return engine.url.database or ""


def _size_of(path: Path) -> int:
    return path.stat().st_size


async def test_a_writer_waiting_for_another_process_s_lock_leaves_the_loop_free(
    engine: AsyncEngine,
) -> None:
    # given another process holding SQLite's write lock
    holder = sqlite3.connect(_path(engine), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:

        async def write() -> None:
            async with write_transaction(engine) as connection:
                await create_progress(connection, "waiting", STEP_NUMBERS, datetime.now(UTC))

        # when a writer of this process wants to write
        writer = asyncio.create_task(write())
        loop = asyncio.get_running_loop()
        watched_until = loop.time() + 0.3
        turns = 0
        while loop.time() < watched_until:
            await asyncio.sleep(0.01)
            turns += 1
        # then the loop went on serving others while it waited (about 30 turns
        # in 0.3 s; one, had the wait blocked it), and the writer did not get through
        assert turns >= 10
        assert not writer.done()
        # and once the lock is free, its transaction commits
        holder.rollback()
        await asyncio.wait_for(writer, timeout=10)
        async with engine.connect() as connection:
            stored = await get_progress(connection, "waiting")
        assert stored is not None
        assert len(stored.steps) == len(STEP_NUMBERS)
    finally:
        holder.close()


async def test_a_failed_write_transaction_leaves_nothing_behind_and_the_next_one_commits(
    engine: AsyncEngine,
) -> None:
    # when a transaction fails after it wrote
    async def fail_after_writing() -> None:
        async with write_transaction(engine) as connection:
            await create_progress(connection, "failed", STEP_NUMBERS, datetime.now(UTC))
            raise RuntimeError("after the insert")

    with pytest.raises(RuntimeError, match="after the insert"):
        await fail_after_writing()
    # then none of it is stored, and the lock is free for the next writer
    async with write_transaction(engine) as connection:
        await create_progress(connection, "next", STEP_NUMBERS, datetime.now(UTC))
    users = select(onboarding_progress.c.user_id).order_by(onboarding_progress.c.user_id)
    async with engine.connect() as connection:
        assert (await connection.execute(users)).scalars().all() == ["next"]


async def test_the_wal_is_checkpointed_as_writes_go_on_so_it_stops_growing(
    engine: AsyncEngine,
) -> None:
    wal = Path(f"{_path(engine)}-wal")
    rounds = 2 * COMMITS_PER_CHECKPOINT

    async def add_users(first: int) -> int:
        for number in range(first, first + rounds):
            async with write_transaction(engine) as connection:
                now = datetime.now(UTC)
                await create_progress(connection, f"u{number}", STEP_NUMBERS, now)
        # Read while a connection is open: the last one to close removes the WAL.
        return _size_of(wal)

    # when users keep being added, one transaction each
    after_some = await add_users(0)
    after_twice_as_many = await add_users(rounds)
    async with engine.connect() as connection:
        count = select(func.count()).select_from(onboarding_progress)
        assert (await connection.execute(count)).scalar_one() == 2 * rounds
    # then the WAL did not grow with them: after each checkpoint SQLite writes
    # it again from its start (without one, it would about double)
    assert after_twice_as_many < 1.25 * after_some


async def test_a_write_runs_its_statements_on_the_driver_and_stores_what_the_engine_would(
    engine: AsyncEngine,
) -> None:
    # when a user's progress is created and two steps changed in one transaction, then
    # none of its statements went through the engine's execution machinery
    await assert_written_on_the_driver(engine, "on-driver")
    # and the same change written through the engine reads back alike: JSON,
    # bytes, a list, timestamps and the version
    await assert_stored_as_through_engine(engine, "on-driver")


async def test_a_duplicate_key_is_sqlalchemy_s_integrity_error_and_the_next_write_commits(
    engine: AsyncEngine,
) -> None:
    row = {"user_id": "taken", "version": 1, "started_at": STARTED, "updated_at": STARTED}
    async with write_transaction(engine) as connection:
        await connection.execute(insert(onboarding_progress), row)

    async def insert_again() -> None:
        async with write_transaction(engine) as connection:
            await create_progress(connection, "lost", STEP_NUMBERS, STARTED)
            await connection.execute(insert(onboarding_progress), row)

    # when the same key is inserted again, after another insert in its transaction
    with pytest.raises(IntegrityError):
        await insert_again()
    # then it is SQLAlchemy's IntegrityError, as through the engine, nothing of
    # that transaction is stored, and the next transaction commits
    async with write_transaction(engine) as connection:
        await create_progress(connection, "next", STEP_NUMBERS, STARTED)
    users = select(onboarding_progress.c.user_id).order_by(onboarding_progress.c.user_id)
    async with engine.connect() as connection:
        stored = (await connection.execute(users)).scalars().all()
    assert stored == ["next", "taken"]
