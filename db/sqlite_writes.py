"""SQLite write transactions on the event loop, on the stdlib driver: no thread hop per statement.

Through the async engine every statement of a write transaction (BEGIN, each
read and write, COMMIT, the pool's reset) is handed to aiosqlite's thread and
back. A step write's transaction cost 1.4 ms of CPU that way, against 0.27 ms
with the same statements on SQLAlchemy's synchronous engine over the stdlib
`sqlite3` driver, on the loop (a probe of 1,000 transactions); in
`bench.profile` a whole "complete step" request went from 3.1 to 0.7 ms.
SQLite itself answers these statements in microseconds from the page cache;
what must never run on the loop is a wait, and a write transaction has only
two:

- the write lock. `BEGIN IMMEDIATE` is tried without waiting; while another
  process holds the lock, it is tried again after short pauses in which the
  loop serves others, for at most the statement budget (as SQLite's busy
  timeout would, but never sleeping on the loop);
- the checkpoint, which copies the WAL into the database file and syncs both
  to disk. The loop's connection never checkpoints on commit; every
  `COMMITS_PER_CHECKPOINT` commits a connection of its own does it in a worker
  thread, beside later writers (a PASSIVE checkpoint waits for no one).

A COMMIT in WAL mode with `synchronous=NORMAL` appends to the WAL and does not
sync. The writers of this process still take turns in arrival order
(`WriterQueue`), so the loop's connection serves one transaction at a time.

The statements run on that `sqlite3` connection directly: Core compiled once
by the dialect (`db.driver_statements`), its types' own processors on the way
in and out, without an execution context and a result object per statement
(a "complete step" request went from 3.61 to 3.04 million instructions,
`bench.instructions`). Its errors are SQLAlchemy's, as through the engine.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql import Executable

from db.driver_statements import DriverResult, DriverWriteConnection, DriverWriter, Parameters
from db.writer_queue import WriterQueue

# A write transaction changes a few pages (a new user's progress: about four), so
# the WAL stays under the 1000 pages at which SQLite would checkpoint by itself.
COMMITS_PER_CHECKPOINT = 100
_BUSY = "database is locked"
_FIRST_PAUSE_SECONDS = 0.0005
_LONGEST_PAUSE_SECONDS = 0.01

logger = logging.getLogger(__name__)


def _as_engine_error(error: sqlite3.Error, sql: str | None, parameters: Any) -> exc.StatementError:
    # SQLAlchemy's own wrapping: IntegrityError, OperationalError... with the driver's as `orig`.
    return exc.DBAPIError.instance(sql, parameters, error, sqlite3.Error)


class SQLiteWriteConnection(DriverWriteConnection["SQLiteWriter"]):
    """A write transaction's connection, with the async `execute` the repositories await.

    The statement runs at once on the loop: there is nothing to wait for once
    the transaction holds SQLite's write lock.
    """

    __slots__ = ()
    _driver: sqlite3.Connection

    async def execute(self, statement: Executable, parameters: Parameters = None) -> DriverResult:
        compiled, each = self._writer.prepared(statement, parameters)
        cursor = self._driver.cursor()
        try:
            if len(each) > 1:
                cursor.executemany(compiled.sql, [compiled.arguments(one) for one in each])
                return DriverResult([], cursor.rowcount)
            cursor.execute(compiled.sql, compiled.arguments(each[0]))
            if compiled.returns_rows:
                rows = compiled.rows(cursor.fetchall())
                return DriverResult(rows, len(rows))
            return DriverResult([], cursor.rowcount)
        except sqlite3.Error as error:
            raise _as_engine_error(error, compiled.sql, parameters) from error
        finally:
            cursor.close()


class SQLiteWriter(DriverWriter):
    """This process's SQLite write transactions: their turns, their connection, the checkpoints."""

    def __init__(
        self,
        path: str,
        *,
        busy_seconds: float,
        queue: WriterQueue,
        json_serializer: Callable[[Any], str],
        json_deserializer: Callable[[str | bytes], Any],
    ) -> None:
        self.queue = queue
        self._path = path
        self._busy_seconds = busy_seconds
        # One transaction at a time (the queue), so one connection is all it uses;
        # pool_timeout 0: were it ever busy, waiting for it would block the loop.
        # Its JSON columns are written and read as the async engine's are.
        self.engine: Engine = create_sync_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": 0},
            pool_size=1,
            max_overflow=0,
            pool_timeout=0,
            json_serializer=json_serializer,
            json_deserializer=json_deserializer,
        )
        event.listen(self.engine, "connect", _prepare_connection)
        super().__init__(self.engine.dialect)
        self._connection: PoolProxiedConnection | None = None
        self._commits_since_checkpoint = 0

    def _driver(self) -> sqlite3.Connection:
        # Kept checked out between transactions (they take turns): a checkout and
        # the pool's reset on return cost more than a transaction's BEGIN and COMMIT.
        if self._connection is None:
            try:
                self._connection = self.engine.raw_connection()
            except sqlite3.Error as error:  # no database file where it should be, say
                raise _as_engine_error(error, None, None) from error
        driver = self._connection.driver_connection
        assert isinstance(driver, sqlite3.Connection), "the pysqlite dialect's connection"
        return driver

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteWriteConnection]:
        """Wait for this process's turn and SQLite's write lock, then one transaction."""
        async with self.queue.turn():
            driver = self._driver()
            await self._begin_immediate(driver)
            try:
                yield SQLiteWriteConnection(driver, self)
            except BaseException:
                driver.rollback()
                raise
            try:
                driver.commit()
            except sqlite3.Error as error:
                driver.rollback()  # SQLite may keep a failed COMMIT's transaction open
                raise _as_engine_error(error, "COMMIT", None) from error
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= COMMITS_PER_CHECKPOINT:
            self._commits_since_checkpoint = 0
            # Awaited by the writer whose commit made it due, after its turn ended,
            # so the writers behind it go on meanwhile.
            await self._checkpoint()

    async def _begin_immediate(self, driver: sqlite3.Connection) -> None:
        # Tried without waiting: SQLite's own busy handler would sleep on the loop.
        # While another process writes, try again after a pause that doubles up to
        # `_LONGEST_PAUSE_SECONDS`, until the busy budget is spent.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_seconds
        pause = _FIRST_PAUSE_SECONDS
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not str(error).startswith(_BUSY) or loop.time() >= deadline:
                    raise _as_engine_error(error, "BEGIN IMMEDIATE", None) from error
            await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
            pause = min(2 * pause, _LONGEST_PAUSE_SECONDS)

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint_now)
        except sqlite3.Error as error:  # the write committed; the next checkpoint tries again
            logger.warning("SQLite checkpoint failed: %s", error)

    def _checkpoint_now(self) -> None:
        connection = sqlite3.connect(self._path, timeout=0, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def dispose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


def configure_sqlite_connection(dbapi_connection: DBAPIConnection) -> None:
    """Every SQLite connection of the service: WAL, foreign keys, and no implicit BEGIN."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _prepare_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Never checkpointing on commit: that syncs to disk, on the loop.
    configure_sqlite_connection(dbapi_connection)
    dbapi_connection.cursor().execute("PRAGMA wal_autocheckpoint=0").close()
