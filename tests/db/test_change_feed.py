"""The change feed: topics between processes through PostgreSQL, a listener that heals itself.

Each `PostgresChangeFeed` here stands for one process (its own engine, its own
listening connection). The restart test runs a PostgreSQL server of its own
(`tests/reliability/own_postgres.py`): the shared one is never stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.change_feed import MAX_TOPIC_BYTES, LocalChangeFeed, PostgresChangeFeed, check_topic
from db.engine import create_engine, write_transaction
from tests.reliability.own_postgres import OwnPostgres

WITHIN = 20.0


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as server:
        yield server


@asynccontextmanager
async def process_feed(database_url: str) -> AsyncIterator[PostgresChangeFeed]:
    """The feed one process would run: its own engine, listening until the block ends."""
    engine = create_engine(database_url)
    feed = PostgresChangeFeed(engine, health_check_seconds=0.5)
    await feed.start()
    try:
        yield feed
    finally:
        await feed.close()
        await engine.dispose()


@asynccontextmanager
async def two_processes(
    database_url: str,
) -> AsyncIterator[tuple[PostgresChangeFeed, PostgresChangeFeed]]:
    """Two processes' feeds; the first already listening."""
    async with process_feed(database_url) as first, process_feed(database_url) as second:
        await listening(first)
        yield first, second


async def listening(feed: PostgresChangeFeed, connections: int = 1) -> None:
    """Until the feed's listening connection has been made `connections` times and is up."""
    deadline = time.monotonic() + WITHIN
    while feed.connections_made < connections or not feed.listening.is_set():
        assert time.monotonic() < deadline, "the feed is not listening"
        await asyncio.sleep(0.02)


async def test_a_change_published_by_one_process_reaches_the_watchers_of_another(
    postgres_database_url: str,
) -> None:
    async with two_processes(postgres_database_url) as (first, second):
        # given a watcher of one topic in the first process, and one of another topic
        with first.watch("discovery:1") as watched, first.watch("discovery:2") as other:
            # when the second process publishes the first topic
            await second.publish("discovery:1")
            # then only its watcher is told
            assert await watched.next_change(at_most=WITHIN)
            assert not await other.next_change(at_most=0.2)
        # and a watch that ended is forgotten
        assert first.watch_count == 0


async def test_a_change_announced_in_a_transaction_reaches_another_process_once_it_commits(
    postgres_database_url: str,
) -> None:
    async with two_processes(postgres_database_url) as (first, second):
        engine = create_engine(postgres_database_url)
        try:
            with first.watch("progress:1") as watched:
                # given the second process announcing a change in a transaction
                async with engine.begin() as connection:
                    await second.announce_on_commit(connection, "progress:1")
                    # then nobody hears of it before the commit
                    assert not await watched.next_change(at_most=0.5)
                # and the first process hears of it once it commits
                assert await watched.next_change(at_most=WITHIN)
                # when another transaction announces it, then rolls back
                async with engine.connect() as connection, connection.begin() as transaction:
                    await second.announce_on_commit(connection, "progress:1")
                    await transaction.rollback()
                # then nobody hears of that one
                assert not await watched.next_change(at_most=0.5)
        finally:
            await engine.dispose()


async def test_a_write_transaction_announces_with_its_commit_whatever_the_topic_holds(
    postgres_database_url: str,
) -> None:
    # The service's write transactions send the NOTIFY with the COMMIT, its values
    # written into the SQL: a quote or a backslash in a topic must arrive as it was.
    topic = "progress:o'brien\\'); COMMIT; --"
    async with two_processes(postgres_database_url) as (first, second):
        engine = create_engine(postgres_database_url)
        try:
            with first.watch(topic) as watched:
                # given a write transaction of the second process announcing the topic
                async with write_transaction(engine) as connection:
                    await second.announce_on_commit(connection, topic)
                    await connection.execute(text("SELECT 1"))
                    # then nobody hears of it before the commit
                    assert not await watched.next_change(at_most=0.5)
                # and the first process hears of it, the topic intact, once it commits
                assert await watched.next_change(at_most=WITHIN)
                # when a write transaction announces it, then fails
                with pytest.raises(LookupError):
                    await _announce_then_fail(engine, second, topic)
                # then nobody hears of that one
                assert not await watched.next_change(at_most=0.5)
        finally:
            await engine.dispose()


async def _announce_then_fail(engine: AsyncEngine, feed: PostgresChangeFeed, topic: str) -> None:
    async with write_transaction(engine) as connection:
        await feed.announce_on_commit(connection, topic)
        raise LookupError("the transaction fails before its commit")


async def test_the_listener_reconnects_after_a_database_restart_and_watchers_catch_up(
    own_postgres: OwnPostgres,
) -> None:
    async with (
        process_feed(own_postgres.url()) as feed,
        process_feed(own_postgres.url()) as elsewhere,
    ):
        await listening(feed)
        with feed.watch("progress:abc") as watch:
            # given a watcher told of another process's changes
            await elsewhere.publish("progress:abc")
            assert await watch.next_change(at_most=WITHIN)
            # when the database restarts (every connection is cut)
            await asyncio.to_thread(own_postgres.stop)
            await asyncio.to_thread(own_postgres.start)
            # then the feed listens again, and tells every watcher to re-read, since
            # what was announced meanwhile is lost
            await listening(feed, connections=2)
            assert await watch.next_change(at_most=WITHIN)
            # and other processes' changes reach it again
            await elsewhere.publish("progress:abc")
            assert await watch.next_change(at_most=WITHIN)


async def test_a_process_hears_its_own_changes_even_while_it_cannot_listen() -> None:
    # given a feed whose database is unreachable (nothing listens on port 9)
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    feed = PostgresChangeFeed(engine)
    try:
        with feed.watch("discovery:1") as watch:
            # when a change is published here, then this process's watchers hear it anyway
            await feed.publish("discovery:1")
            assert await watch.next_change(at_most=1)
    finally:
        await feed.close()
        await engine.dispose()


async def test_the_local_feed_tells_watchers_of_their_topics_only() -> None:
    feed = LocalChangeFeed()
    with feed.watch("a", "b") as both, feed.watch("c") as other:
        await feed.publish("b")
        await feed.publish("b")  # coalesced: a slow watcher sees one change, then reads
        assert await both.next_change(at_most=1)
        assert not await both.next_change(at_most=0.05)
        assert not await other.next_change(at_most=0.05)


@pytest.mark.parametrize("topic", ["", "x" * (MAX_TOPIC_BYTES + 1), "progress:é", "a\nb"])
def test_a_topic_is_short_printable_ascii(topic: str) -> None:
    with pytest.raises(ValueError, match="not a change topic"):
        check_topic(topic)
