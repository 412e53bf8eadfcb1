"""Reads straight on the driver (`db.fast_reads`) answer exactly what the engine answers."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest
from sqlalchemy import Float, bindparam, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.availability import is_database_unavailable
from db.discovery_repository import (
    find_active,
    find_active_or_recent_identical,
    insert_discovery,
)
from db.engine import create_engine, read_transaction, write_transaction
from db.fast_reads import AsyncpgReads, EngineReads, Reads, reads_for
from db.progress_repository import create_progress, get_progress, read_progress, save_progress
from db.records import DiscoveryRecord, DiscoveryStatus, ProgressRecord, StepStatus
from db.timeouts import DatabaseTimeouts
from tests.reliability.own_postgres import OwnPostgres
from tests.support.databases import SQLiteDatabases
from tests.support.stored_progress import STARTED, store_progress_with_data


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reads(engine: AsyncEngine) -> AsyncIterator[Reads]:
    reads = reads_for(engine)
    yield reads
    await reads.close()


async def _user_with_data(engine: AsyncEngine, user_id: str) -> None:
    async with write_transaction(engine) as connection:
        await store_progress_with_data(connection, user_id)


def test_each_database_gets_its_drivers_own_reads(engine: AsyncEngine) -> None:
    reads = reads_for(engine)
    # not the engine's greenlet and thread hops, on either database the service runs on
    assert not isinstance(reads, EngineReads)


async def test_a_progress_reads_the_same_as_through_the_engine(
    engine: AsyncEngine, reads: Reads
) -> None:
    # given a user whose steps hold JSON, bytes, timestamps and a list
    await _user_with_data(engine, "user-a")
    # when it is read on the driver and through the engine
    fast = await read_progress(reads, "user-a")
    async with read_transaction(engine) as connection:
        through_engine = await get_progress(connection, "user-a")
    # then the records are equal, value for value, aware UTC timestamps included
    assert fast is not None
    assert fast == through_engine
    assert fast.steps[0].completed_at == STARTED + timedelta(minutes=1)
    assert fast.started_at.tzinfo is not None
    assert fast.started_at.utcoffset() == timedelta(0)
    assert fast.steps[0].data["note"] == "ünïcode ✓"
    assert fast.steps[0].encrypted_secrets == b"\x00sealed\xff"


async def test_equal_json_in_two_rows_reads_as_two_objects(
    engine: AsyncEngine, reads: Reads
) -> None:
    # given two steps holding equal JSON data, the rows of one join
    async with write_transaction(engine) as connection:
        await create_progress(connection, "user-a", range(1, 7), STARTED)
        before = await get_progress(connection, "user-a")
        assert before is not None
        data = {"website": "https://acme-shop.com", "tags": ["a"]}
        steps = [replace(step, data=dict(data)) for step in before.steps]
        await save_progress(connection, before, replace(before, steps=tuple(steps)))
    # when they are read on the driver
    fast = await read_progress(reads, "user-a")
    # then each step has its own: changing one step's data cannot change another's
    assert fast is not None
    assert [step.data for step in fast.steps] == [data] * 6
    assert len({id(step.data) for step in fast.steps}) == 6


def _completed_discovery(
    discovery_id: str, url: str, industry: str | None, *, minutes: int
) -> DiscoveryRecord:
    """user-a's discovery of `url`, made `minutes` after STARTED and finished 3 s later."""
    return DiscoveryRecord(
        id=discovery_id,
        user_id="user-a",
        url=url,
        domain="a.example",
        industry_context=industry,
        requested_results=5,
        provider="catalog",
        result={"competitors": [{"url": "https://rival.example", "score": 0.5}]},
        created_at=STARTED + timedelta(minutes=minutes),
        finished_at=STARTED + timedelta(minutes=minutes, seconds=3),
    )


@pytest.mark.parametrize("industry", [None, "retail"])
async def test_a_cached_discovery_reads_the_same_as_through_the_engine(
    engine: AsyncEngine, reads: Reads, industry: str | None
) -> None:
    # given two completed discoveries of the same question, and one of another
    for number, (url, created) in enumerate(
        [("https://a.example", 1), ("https://a.example", 2), ("https://b.example", 3)]
    ):
        record = _completed_discovery(f"discovery-{number}", url, industry, minutes=created)
        async with write_transaction(engine) as connection:
            await insert_discovery(connection, record)
    question = {
        "user_id": "user-a",
        "question_hash": "no job asks this",
        "url": "https://a.example",
        "industry_context": industry,
        "requested_results": 5,
        "since": STARTED,
    }
    # when the newest identical one is looked up on the driver and through the engine
    fast = await find_active_or_recent_identical(reads, **question)  # type: ignore[arg-type]
    async with read_transaction(engine) as connection:
        through_engine = await find_active_or_recent_identical(connection, **question)  # type: ignore[arg-type]
    # then both find the newest of the two, equal in every field
    assert fast is not None
    assert fast == through_engine
    assert fast.id == "discovery-1"
    # and nothing is found past it, or for another industry
    later = {**question, "since": STARTED + timedelta(minutes=10)}
    assert await find_active_or_recent_identical(reads, **later) is None  # type: ignore[arg-type]
    other = {
        **question,
        "industry_context": "other" if industry else None,
        "url": "https://c.example",
    }
    assert await find_active_or_recent_identical(reads, **other) is None  # type: ignore[arg-type]
    assert await find_active(reads, "user-a", "no such question") is None


async def test_a_job_under_way_is_found_before_a_cached_result(
    engine: AsyncEngine, reads: Reads
) -> None:
    # given a completed discovery and, asked before it, a job still running for a question
    # of the same request
    completed = _completed_discovery("discovery-done", "https://a.example", None, minutes=2)
    running = replace(
        completed,
        id="discovery-running",
        status=DiscoveryStatus.RUNNING,
        result=None,
        created_at=STARTED + timedelta(minutes=1),
        finished_at=None,
    )
    async with write_transaction(engine) as connection:
        await insert_discovery(connection, completed)
        await insert_discovery(connection, running, question_hash="the running question")
    question = {
        "user_id": "user-a",
        "url": "https://a.example",
        "industry_context": None,
        "requested_results": 5,
        "since": STARTED,
    }
    # when the request is looked up with the running job's question, and with another
    joined = await find_active_or_recent_identical(
        reads,
        question_hash="the running question",
        **question,  # type: ignore[arg-type]
    )
    cached = await find_active_or_recent_identical(
        reads,
        question_hash="another analysis of the site",
        **question,  # type: ignore[arg-type]
    )
    # then the first joins the running job, the second gets the completed result
    assert joined is not None
    assert joined.id == "discovery-running"
    assert cached is not None
    assert cached.id == "discovery-done"


async def test_an_unknown_user_has_no_progress(reads: Reads) -> None:
    assert await read_progress(reads, "nobody") is None


async def test_every_read_sees_what_was_committed_since(engine: AsyncEngine, reads: Reads) -> None:
    # given a progress already read once on the driver
    await _user_with_data(engine, "user-a")
    first = await read_progress(reads, "user-a")
    assert first is not None
    # when another connection (as another process would) commits a change
    async with write_transaction(engine) as connection:
        before = await get_progress(connection, "user-a")
        assert before is not None
        later = replace(before, updated_at=STARTED + timedelta(hours=1))
        await save_progress(connection, before, later)
    # then the next read has it: nothing read earlier is kept
    second = await read_progress(reads, "user-a")
    assert second is not None
    assert second.version == first.version + 1
    assert second.updated_at == STARTED + timedelta(hours=1)


async def test_listeners_are_told_of_each_statement_sent(engine: AsyncEngine, reads: Reads) -> None:
    await _user_with_data(engine, "user-a")
    sent: list[str] = []
    stop = reads.listen(sent.append)
    await read_progress(reads, "user-a")
    stop()
    await read_progress(reads, "user-a")
    assert len(sent) == 1
    assert "onboarding_steps" in sent[0]


async def test_a_sqlite_read_that_finds_the_database_busy_waits_off_the_loop(
    sqlite_databases: SQLiteDatabases,
) -> None:
    with sqlite_databases.fresh() as database_url:
        engine = create_engine(database_url)
        reads = reads_for(engine)
        try:
            await _user_with_data(engine, "user-a")
            await engine.dispose()
            progress, sent = await _read_while_locked(reads, database_url)
        finally:
            await reads.close()
            await engine.dispose()
    # then it is answered once the lock is gone, not refused: the engine waited for it,
    # since the driver's own read gave up at once
    assert progress is not None
    assert progress.steps[0].status is StepStatus.COMPLETED
    assert sent == []


async def _read_while_locked(
    reads: Reads, database_url: str
) -> tuple[ProgressRecord | None, list[str]]:
    # given the database switched out of WAL, so a writer's exclusive lock keeps
    # readers out (as a checkpoint or recovery can, briefly, in WAL mode)
    path = str(make_url(database_url).database)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    sent: list[str] = []
    reads.listen(sent.append)
    try:
        # when a read comes in while the lock is held (released a moment later)
        asyncio.get_running_loop().call_later(0.2, holder.execute, "COMMIT")
        return await read_progress(reads, "user-a"), sent
    finally:
        holder.close()


# A statement may take 0.2 s; a connection is waited for far longer than that.
QUICK_STATEMENTS = DatabaseTimeouts(connect_seconds=1.0, statement_seconds=0.2, pool_seconds=3.0)
BACKEND = select(func.pg_backend_pid().label("pid"))
SLEEP = select(func.pg_sleep(bindparam("seconds", type_=Float)).label("slept"))


async def _backend(reads: Reads) -> int:
    pid: int = (await reads.all(BACKEND, {}))[0].pid
    return pid


async def test_a_postgresql_read_over_budget_is_cancelled_by_the_server_and_the_connection_kept(
    postgres_database_url: str,
) -> None:
    # given the reads of an engine whose statements may take 0.2 s
    engine = create_engine(postgres_database_url, QUICK_STATEMENTS)
    reads = reads_for(engine, QUICK_STATEMENTS)
    try:
        connection = await _backend(reads)
        # when a read takes longer (though well within the engine's default 2 s)
        with pytest.raises(asyncpg.QueryCanceledError) as raised:
            await reads.all(SLEEP, {"seconds": 1.0})
        # then the error says the database is unavailable (HTTP 503, not a 500)
        assert is_database_unavailable(raised.value)
        # and the server cancelled it, so the same connection serves the next read
        assert await _backend(reads) == connection
    finally:
        await reads.close()
        await engine.dispose()


ONE_SECOND_STATEMENTS = DatabaseTimeouts(
    connect_seconds=1.0, statement_seconds=1.0, pool_seconds=0.2
)
PID_AFTER_SLEEP = select(
    func.pg_sleep(bindparam("seconds", type_=Float)).label("slept"),
    func.pg_backend_pid().label("pid"),
)


async def test_postgresql_reads_open_at_most_max_size_connections_and_wait_for_one(
    postgres_database_url: str,
) -> None:
    # given reads allowed two connections, which wait 0.2 s for one
    engine = create_engine(postgres_database_url, ONE_SECOND_STATEMENTS)
    reads = AsyncpgReads(engine, ONE_SECOND_STATEMENTS, max_size=2)
    try:
        # when four reads of 0.05 s come at once
        rows = await asyncio.gather(
            *(reads.all(PID_AFTER_SLEEP, {"seconds": 0.05}) for _ in range(4))
        )
        # then all are answered, on two connections between them
        assert len({row[0].pid for row in rows}) == 2
        # and when two reads hold both connections longer than another may wait
        slow = [asyncio.create_task(reads.all(SLEEP, {"seconds": 0.5})) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError) as raised:
            await reads.all(BACKEND, {})
        # then the third is told the database is unavailable (503), and the others finish
        assert is_database_unavailable(raised.value)
        await asyncio.gather(*slow)
        assert len({(await _backend(reads)) for _ in range(3)}) == 1
    finally:
        await reads.close()
        await engine.dispose()


@pytest.mark.postgresql_only
async def test_a_postgresql_connection_the_server_closed_is_replaced(
    engine: AsyncEngine, reads: Reads
) -> None:
    # given reads with one connection open and idle
    first = await _backend(reads)
    # when the server ends that session (a restart, an administrator)
    async with engine.connect() as admin:
        await admin.execute(select(func.pg_terminate_backend(first)))
    await asyncio.sleep(0.1)
    # then the next read is answered, on a new connection
    assert await _backend(reads) != first


@pytest.mark.postgresql_only
async def test_closing_postgresql_reads_closes_their_connections(
    engine: AsyncEngine, reads: Reads
) -> None:
    # given reads with a connection open
    pid = await _backend(reads)
    # when they are closed
    await reads.close()
    # then the server has no such session any more (once its backend has exited)
    assert await _session_ends(engine, pid)
    # and a read after closing is refused as the database being unavailable
    with pytest.raises(ConnectionError):
        await reads.all(BACKEND, {})


async def _session_ends(engine: AsyncEngine, pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        async with engine.connect() as admin:
            sessions = await admin.execute(
                select(func.count()).select_from(func.pg_stat_get_activity(pid))
            )
            if sessions.scalar_one() == 0:
                return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as server:
        yield server


# The client waits for a statement this long: its deadline, plus a margin for the server's.
FROZEN_TIMEOUTS = DatabaseTimeouts(connect_seconds=1.0, statement_seconds=1.0, pool_seconds=5.0)
CLIENT_DEADLINE_SECONDS = 1.5


async def test_a_read_on_a_frozen_postgresql_gives_up_at_its_statement_deadline(
    own_postgres: OwnPostgres,
) -> None:
    # given reads on a PostgreSQL of this test's own, one connection already open
    engine = create_engine(own_postgres.url(), FROZEN_TIMEOUTS)
    reads = reads_for(engine, FROZEN_TIMEOUTS)
    try:
        connection = await _backend(reads)
        # when the server freezes (SIGSTOP: the connection stays open, nothing answers)
        own_postgres.freeze()
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError) as raised:
                await asyncio.wait_for(_backend(reads), timeout=30)
            gave_up_after = time.monotonic() - started
        finally:
            own_postgres.thaw()
        # then the read is told "unavailable" once its statement's deadline passed, not
        # after also waiting as long again for the silent server to take a cancel request
        assert is_database_unavailable(raised.value)
        assert gave_up_after < 2 * CLIENT_DEADLINE_SECONDS
        # and that connection was dropped: once thawed, a new one serves the next read
        assert await _backend(reads) != connection
    finally:
        await reads.close()
        await engine.dispose()
