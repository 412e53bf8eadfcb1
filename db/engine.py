"""Async engines and the two kinds of transaction the service runs."""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, cast

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.engine.interfaces import AdaptedConnection, DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from db.advisory_locks import take_lock
from db.asyncpg_writes import AsyncpgWriteConnection, AsyncpgWriter
from db.availability import is_database_unavailable
from db.driver_statements import StatementListener
from db.sqlite_writes import SQLiteWriteConnection, SQLiteWriter, configure_sqlite_connection
from db.stored_json import dumps_stored_json, loads_stored_json
from db.timeouts import DatabaseTimeouts
from db.writer_queue import WriterQueue

Transaction = AsyncConnection | SQLiteWriteConnection | AsyncpgWriteConnection
"""A connection in a transaction: write transactions run on `SQLiteWriteConnection` (SQLite)
and `AsyncpgWriteConnection` (PostgreSQL on asyncpg)."""

_WRITE = "onboarding_write"
_FRESH = "onboarding_fresh"
_RETURNED_AT = "onboarding_returned_at"
_CONNECTED_AT = "onboarding_connected_at"
# A ping is `SELECT 1`: a server that takes longer to answer it gets no request.
_PING_SECONDS = 0.5
# A connection back in the pool for less than this is not pinged: under load every
# connection is, and a round trip per transaction is what the ping would cost. One
# that broke meanwhile fails its statement, which discards the pool just the same.
_PING_AFTER_IDLE_SECONDS = 1.0
# The client gives up this much after the server's statement_timeout, so a slow
# statement is cancelled by the server (the connection stays usable) and only a
# server that does not answer at all trips the client's own deadline.
_CLIENT_TIMEOUT_MARGIN_SECONDS = 0.5
# SQLite has no "no limit" for the write-lock wait; operator commands wait this long.
_UNLIMITED_SQLITE_BUSY_SECONDS = 60.0

_WRITER_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, SQLiteWriter] = weakref.WeakKeyDictionary()
_ASYNCPG_WRITERS: weakref.WeakKeyDictionary[Engine, AsyncpgWriter] = weakref.WeakKeyDictionary()


def create_engine(url: str, timeouts: DatabaseTimeouts | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine for `url` that waits on the database no longer than `timeouts` say."""
    timeouts = timeouts or DatabaseTimeouts()
    kwargs.setdefault("json_serializer", dumps_stored_json)
    kwargs.setdefault("json_deserializer", loads_stored_json)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, timeouts, kwargs)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_timeout", timeouts.pool_seconds)
    if make_url(url).get_driver_name() != "asyncpg":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    connect_args: dict[str, Any] = {"timeout": timeouts.connect_seconds}
    if timeouts.statement_seconds is not None:
        milliseconds = round(timeouts.statement_seconds * 1000)
        connect_args["server_settings"] = {"statement_timeout": str(milliseconds)}
        connect_args["command_timeout"] = (
            timeouts.statement_seconds + _CLIENT_TIMEOUT_MARGIN_SECONDS
        )
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    _ping_on_checkout(engine)
    _drop_connections_that_timed_out(engine)
    _ASYNCPG_WRITERS[engine.sync_engine] = AsyncpgWriter(engine)
    return engine


def _ping_on_checkout(engine: AsyncEngine) -> None:
    # SQLAlchemy's own pre-ping (pool_pre_ping) wraps its ping in a transaction
    # and rolls it back even when the ping timed out, so a server that froze costs
    # it two statement timeouts, and it discards only the connection it pinged:
    # the next request pings the next stale connection and waits again. This ping
    # has its own short deadline, and on failure SQLAlchemy discards the whole
    # pool and opens one fresh connection (the documented checkout-event recipe).
    # When the pool was discarded (below), the time it was: every connection opened
    # before then is closed at once, not politely (see _close_discarded_at_once).
    discarded_at = float("-inf")

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info[_FRESH] = True
        record.info[_CONNECTED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "close")
    def _close_discarded_at_once(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry
    ) -> None:
        # SQLAlchemy closes each connection of a discarded pool when it next comes
        # out of it, politely: up to 2 s waiting on a server that stopped answering,
        # on top of the request's own budget.
        if record.info.get(_CONNECTED_AT, float("inf")) <= discarded_at:
            cast(AdaptedConnection, dbapi_connection).driver_connection.terminate()

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object
    ) -> None:
        if record.info.pop(_FRESH, False):
            return  # it has just answered the handshake
        adapted = cast(AdaptedConnection, dbapi_connection)
        nonlocal discarded_at
        if adapted.driver_connection.is_closed():
            # The server ended it (a restart, an administrator): so it did the others.
            discarded_at = time.monotonic()
            raise exc.InvalidatePoolError("the server closed the connection")
        idle = time.monotonic() - record.info.get(_RETURNED_AT, float("-inf"))
        if idle < _PING_AFTER_IDLE_SECONDS:
            return
        try:
            adapted.run_async(lambda driver: driver.fetchval("SELECT 1", timeout=_PING_SECONDS))
        except Exception as error:  # whatever the reason, this connection cannot serve
            discarded_at = time.monotonic()
            raise exc.InvalidatePoolError(f"pre-ping failed: {error!r}") from error


def _drop_connections_that_timed_out(engine: AsyncEngine) -> None:
    # asyncpg raises TimeoutError when the server did not answer in time. That
    # connection still waits on its cancelled command, so it is no use to anyone:
    # calling it a disconnect makes SQLAlchemy discard it, with every other
    # connection the pool opened before it (they talk to the same silent server),
    # instead of rolling it back and handing it to the next request.
    @event.listens_for(engine.sync_engine, "handle_error")
    def _timeout_is_a_disconnect(context: ExceptionContext) -> None:
        if isinstance(context.original_exception, TimeoutError):
            context.is_disconnect = True

    # SQLAlchemy closes a discarded connection politely, waiting up to 2 s for the
    # server to acknowledge; a server that stopped answering never will.
    @event.listens_for(engine.sync_engine, "invalidate")
    def _close_at_once(
        _dbapi_connection: DBAPIConnection,
        record: ConnectionPoolEntry,
        exception: BaseException | None,
    ) -> None:
        unreachable = exception is not None and is_database_unavailable(exception)
        if unreachable and record.driver_connection is not None:
            record.driver_connection.terminate()


def _sqlite_engine(url: str, timeouts: DatabaseTimeouts, kwargs: dict[str, Any]) -> AsyncEngine:
    # A writer waits for SQLite's write lock at most the statement budget (the
    # busy timeout), then the request is answered "unavailable", as a frozen
    # PostgreSQL would be. Readers never wait: in WAL mode they read a snapshot.
    busy_seconds = timeouts.statement_seconds or _UNLIMITED_SQLITE_BUSY_SECONDS
    database = make_url(url).database
    in_memory = not database or database == ":memory:"
    if not in_memory:
        kwargs.setdefault("pool_timeout", timeouts.pool_seconds)
    engine = create_async_engine(url, connect_args={"timeout": busy_seconds}, **kwargs)
    _take_over_sqlite_transactions(engine)
    queue = WriterQueue(timeouts.pool_seconds)
    _WRITER_QUEUES[engine.sync_engine] = queue
    if not database or in_memory:
        # Another connection would open another database: writes stay on the engine.
        return engine
    writer = SQLiteWriter(
        database,
        busy_seconds=busy_seconds,
        queue=queue,
        json_serializer=kwargs["json_serializer"],
        json_deserializer=kwargs["json_deserializer"],
    )
    _SQLITE_WRITERS[engine.sync_engine] = writer
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: writer.dispose())
    return engine


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    # pysqlite opens transactions lazily and as DEFERRED: two writers that both
    # read first then deadlock on the lock upgrade, and SQLite answers one of
    # them "database is locked" at once instead of waiting. Writers therefore
    # begin IMMEDIATE (they queue: in this process in arrival order, see
    # write_transaction, and across processes on busy_timeout). Readers need no BEGIN at
    # all: each of their statements reads one consistent WAL snapshot, and
    # skipping it saves a round trip per request.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        configure_sqlite_connection(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def listen_to_statements(engine: AsyncEngine, listener: StatementListener) -> Callable[[], None]:
    """Tell `listener` the SQL of every statement sent for `engine` from now on (not its
    fast reads: `Reads.listen`), on whichever connection it runs; returns what stops it."""

    def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        listener(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", sent)
    # Write transactions on the driver (SQLite's, asyncpg's) tell their own listeners.
    driver_writer = _SQLITE_WRITERS.get(engine.sync_engine) or _ASYNCPG_WRITERS.get(
        engine.sync_engine
    )
    stop_driver = driver_writer.listen(listener) if driver_writer is not None else None

    def stop() -> None:
        event.remove(engine.sync_engine, "before_cursor_execute", sent)
        if stop_driver is not None:
            stop_driver()

    return stop


@asynccontextmanager
async def write_transaction(
    engine: AsyncEngine, *, serialised_by: str | None = None
) -> AsyncIterator[Transaction]:
    """One transaction that will write; committed on success, rolled back on error.

    On SQLite the writers of this process first take turns in arrival order
    (`WriterQueue`), then run on the event loop (`SQLiteWriter`); PostgreSQL
    needs no such queue, its writers lock rows. On asyncpg the statements run
    on the pooled connection's driver (`AsyncpgWriter`).

    `serialised_by`: the name of a lock (`db.advisory_locks`) the transaction
    holds from its start to its end, so that the transactions naming it run one
    at a time. On asyncpg it is taken with the BEGIN, in one round trip; SQLite's
    writers already run one at a time.
    """
    sqlite_writer = _SQLITE_WRITERS.get(engine.sync_engine)
    if sqlite_writer is not None:
        async with sqlite_writer.transaction() as connection:
            yield connection
        return
    asyncpg_writer = _ASYNCPG_WRITERS.get(engine.sync_engine)
    if asyncpg_writer is not None:
        async with asyncpg_writer.transaction(serialised_by) as driver_connection:
            yield driver_connection
        return
    async with engine_write_transaction(engine) as engine_connection:
        if serialised_by is not None:
            await take_lock(engine_connection, serialised_by)
        yield engine_connection


@asynccontextmanager
async def engine_write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """As `write_transaction`, on the async engine even for SQLite (an ORM session can join it).

    For the bench's naive REST app, whose writes this service's replace.
    """
    writer_queue = _WRITER_QUEUES.get(engine.sync_engine)
    turn: AbstractAsyncContextManager[None] = (
        writer_queue.turn() if writer_queue is not None else nullcontext()
    )
    async with turn, engine.connect() as connection:
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
