"""Changes announced to every process on the database: topics name what changed, never how.

    ChangeFeed              watch(*topics), publish(topic), start(), close()
    ├── LocalChangeFeed     this process only (SQLite: the service is one process)
    └── PostgresChangeFeed  NOTIFY on publish; one LISTEN connection per process

A topic is a short ASCII key such as `discovery:<uuid>`. A watcher that is told
of a change re-reads what it may see from the database, so a notification
carries no data and cannot be trusted for any: anyone who can LISTEN on the
database sees topics, nothing else.

Watches coalesce: a watcher slow to look sees one change for many and then
reads the latest state, so nothing queues up behind a slow subscriber. Every
time the listening connection is (re)established every watch is told of a
change, since what was announced while it was down is lost.

A change is published after its transaction commits (a watcher told of it
reads the new state) and delivered to this process's watchers at once, whether
or not the listening connection is up. A process that dies between the commit
and the NOTIFY loses that one announcement; the next change of the same topic,
or a watcher's own fallback, brings its watchers up to date. A change made in
one transaction of its own can instead have that transaction announce it
(`announce_on_commit`): PostgreSQL sends the NOTIFY with the commit, so
nothing is lost between the two, and this process's watchers are told after
the commit (`deliver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from db.asyncpg_writes import AsyncpgWriteConnection
from db.background import cancel_and_wait
from db.engine import Transaction

logger = logging.getLogger(__name__)

CHANNEL = "onboarding_changes"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; ours are ids, far shorter.
MAX_TOPIC_BYTES = 200
_NOTIFY = text("SELECT pg_notify(:channel, :topic)")


class Watch:
    """Told whenever one of its topics changes; a context manager that stops watching on exit."""

    def __init__(self, topics: tuple[str, ...], forget: Callable[[Watch], None]) -> None:
        self.topics = topics
        self._forget = forget
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()

    async def next_change(self, at_most: float | None = None) -> bool:
        """Wait for a change since the last call (or since watching began); False after
        `at_most` seconds without one."""
        try:
            async with asyncio.timeout(at_most):
                await self._changed.wait()
        except TimeoutError:
            return False
        self._changed.clear()
        return True

    def close(self) -> None:
        self._forget(self)

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def check_topic(topic: str) -> str:
    """`topic`, if it is fit to be a NOTIFY payload: printable ASCII, short."""
    if not topic or len(topic) > MAX_TOPIC_BYTES or not (topic.isascii() and topic.isprintable()):
        raise ValueError(f"not a change topic: {topic[:40]!r}")
    return topic


class ChangeFeed:
    """Watches by topic, in this process; subclasses say how a change reaches the others."""

    # Whether a change published by another process reaches this one's watchers.
    spans_processes = False

    def __init__(self) -> None:
        self._watches: dict[str, set[Watch]] = {}

    def watch(self, *topics: str) -> Watch:
        """Start watching `topics` now: a change published from here on is seen."""
        watch = Watch(tuple(check_topic(topic) for topic in topics), self._forget)
        for topic in watch.topics:
            self._watches.setdefault(topic, set()).add(watch)
        return watch

    @property
    def watch_count(self) -> int:
        return len({watch for watches in self._watches.values() for watch in watches})

    def _forget(self, watch: Watch) -> None:
        for topic in watch.topics:
            watches = self._watches.get(topic)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._watches[topic]

    def deliver(self, topic: str) -> None:
        """Tell this process's watchers of `topic`."""
        for watch in tuple(self._watches.get(topic, ())):
            watch.notify()

    def deliver_everywhere(self) -> None:
        """Tell every watcher of this process to re-read: changes may have been missed."""
        for watches in tuple(self._watches.values()):
            for watch in tuple(watches):
                watch.notify()

    async def publish(self, topic: str) -> None:
        """Announce that what `topic` names changed (call it after the change committed)."""
        self.deliver(check_topic(topic))

    async def announce_on_commit(self, connection: Transaction, topic: str) -> None:
        """Have the transaction on `connection` announce `topic` to the other processes
        when, and only if, it commits; `deliver` tells this process after the commit.

        For a change that has a transaction of its own: the announcement then costs
        no connection and no round trip of its own.
        """
        check_topic(topic)

    async def start(self) -> None:
        """Begin receiving other processes' changes, if this feed can."""

    async def close(self) -> None:
        """Stop receiving; watches stay usable but hear only this process."""


class LocalChangeFeed(ChangeFeed):
    """In-process delivery only: enough for SQLite, which the service runs as one process."""


class PostgresChangeFeed(ChangeFeed):
    """PostgreSQL LISTEN/NOTIFY: every process of every instance on the database hears each change.

    Publishing runs `pg_notify` on a pooled connection, in autocommit. Listening holds one
    connection of its own (outside the pool, made with the same URL) and
    checks it every `health_check_seconds`; when it drops, it is made again
    after 1, 2, 4 … up to `max_retry_seconds` seconds.
    """

    spans_processes = True

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        health_check_seconds: float = 30.0,
        connect_timeout_seconds: float = 10.0,
        max_retry_seconds: float = 30.0,
    ) -> None:
        super().__init__()
        self._engine = engine
        self._listen_engine = create_async_engine(engine.url, poolclass=NullPool)
        self._health_check_seconds = health_check_seconds
        self._connect_timeout = connect_timeout_seconds
        self._max_retry_seconds = max_retry_seconds
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        # How many times the listening connection was made, for tests and logs.
        self.connections_made = 0

    async def publish(self, topic: str) -> None:
        await super().publish(topic)
        try:
            async with self._engine.connect() as connection:
                # One statement, no BEGIN/COMMIT around it: it is sent when it runs.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(_NOTIFY, {"channel": CHANNEL, "topic": topic})
        except Exception as error:  # the change is stored; only other processes' news is late
            logger.warning("could not announce a change to other processes: %s", error)

    async def announce_on_commit(self, connection: Transaction, topic: str) -> None:
        # NOTIFY in a transaction is sent when it commits, and dropped if it rolls back.
        if isinstance(connection, AsyncpgWriteConnection):
            connection.notify_on_commit(CHANNEL, check_topic(topic))
            return
        await connection.execute(_NOTIFY, {"channel": CHANNEL, "topic": check_topic(topic)})

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(
                self._listen_forever(), name="change-feed-listener"
            )

    async def close(self) -> None:
        if self._listener is not None:
            await cancel_and_wait(self._listener)
            self._listener = None
        await self._listen_engine.dispose()

    async def _listen_forever(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._listen_until_lost()
                delay = 1.0
            except Exception as error:  # the database is down or restarting: try again
                logger.warning(
                    "change feed: not listening (%s); retrying in %g s",
                    type(error).__name__,
                    delay,
                )
            else:
                logger.warning("change feed: the listening connection was lost; reconnecting")
            self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_seconds)

    async def _listen_until_lost(self) -> None:
        async with asyncio.timeout(self._connect_timeout):
            connection = await self._listen_engine.connect()
        try:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None, "an asyncpg connection"
            lost = asyncio.Event()
            driver.add_termination_listener(lambda _connection: lost.set())
            async with asyncio.timeout(self._connect_timeout):
                await driver.add_listener(CHANNEL, self._on_notification)
            self.connections_made += 1
            self.listening.set()
            if self.connections_made > 1:
                logger.info("change feed: listening again")
            self.deliver_everywhere()
            while not await _wait(lost, self._health_check_seconds):
                # A connection whose peer vanished says nothing until it is used.
                async with asyncio.timeout(self._connect_timeout):
                    await driver.execute("SELECT 1")
        finally:
            self.listening.clear()
            await _discard(connection)

    def _on_notification(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.deliver(payload)


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` was set within `seconds`."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def _discard(connection: AsyncConnection) -> None:
    # Never reused (NullPool): invalidating closes it without a rollback round trip.
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()


def change_feed_for(engine: AsyncEngine) -> ChangeFeed:
    """LISTEN/NOTIFY on PostgreSQL; in-process delivery otherwise."""
    if engine.dialect.name == "postgresql":
        return PostgresChangeFeed(engine)
    return LocalChangeFeed()
