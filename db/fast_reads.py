"""Reads on the request path straight on the database driver, without the async ORM layers.

SQLAlchemy's async engine runs every statement in a greenlet and, on SQLite,
hands it to aiosqlite's thread and back: a one-row indexed read costs about
0.6 ms of CPU that way, against 15 µs for the statement itself on the stdlib
driver. The reads here keep what SQLAlchemy is good at (Core builds the
statement, the engine's own dialect compiles it, the column types' own
processors decode the values, so a row reads exactly as through the engine)
and run the compiled statement on the driver directly:

- SQLite: the stdlib `sqlite3` on one dedicated, read-only connection of this
  process, on the event loop. In WAL mode a reader takes no lock and each
  statement reads one consistent snapshot, so an indexed read is over in
  microseconds and never waits for a writer. If SQLite answers "busy" all the
  same (a checkpoint or recovery holds the WAL index), the read goes through
  the engine instead, which waits off the loop.
- PostgreSQL: asyncpg connections of its own, kept open between reads, their
  statements prepared once per connection, under the engine's deadlines
  (`DatabaseTimeouts`): a database that stops answering fails the read, and
  so the request (503), as soon as it would have through the engine.

Only reads go here; writes keep their transactions and version checks on the
engine. Nothing read is kept: every call asks the database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.driver_statements import CompiledStatements, Listeners, StatementListener
from db.engine import Transaction, read_transaction
from db.stored_json import loads_stored_json
from db.timeouts import DatabaseTimeouts

__all__ = ["EngineReads", "Reads", "StatementListener", "fetch_all", "reads_for"]

# The client gives up a little after the server's statement_timeout, so a slow
# statement is cancelled by the server and the connection stays usable.
_CLIENT_MARGIN_SECONDS = 0.5
POOL_SIZE = 10


class Reads(Protocol):
    """Runs a read-only Core `Select` and returns its rows (attributes named as its columns)."""

    async def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        """Every row of `statement` with `parameters` bound to its `bindparam`s."""
        ...

    def listen(self, listener: StatementListener) -> Callable[[], None]:
        """Tell `listener` of every statement sent from now on; returns what stops it."""
        ...

    async def close(self) -> None: ...


class EngineReads(Listeners):
    """Reads through the async engine: for drivers without a faster path, and SQLite's fallback.

    Its statements reach the engine's own events too; listeners are told only of
    the ones that did not go through the engine, so nothing is counted twice.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        async with read_transaction(self.engine) as connection:
            rows: Sequence[Any] = (await connection.execute(statement, dict(parameters))).all()
        return rows

    async def close(self) -> None:
        return None


# SQLite's answer when another connection holds what a reader needs for a moment.
_SQLITE_BUSY = ("database is locked", "database table is locked")


class SQLiteReads(Listeners):
    """The stdlib driver on one read-only connection of this process, used on the event loop."""

    def __init__(self, engine: AsyncEngine, path: str) -> None:
        super().__init__()
        self._path = path
        self._statements = CompiledStatements(engine.dialect)
        self._fallback = EngineReads(engine)
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN, so every statement reads the
        # newest committed snapshot. busy_timeout 0: never wait on the loop.
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA busy_timeout=0")
        self._connection = connection
        return connection

    async def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        compiled = self._statements.get(statement)
        connection = self._connection or self._connect()
        try:
            raw = connection.execute(compiled.sql, compiled.arguments(parameters)).fetchall()
        except sqlite3.OperationalError as error:
            if not str(error).lower().startswith(_SQLITE_BUSY):
                raise
            return await self._fallback.all(statement, parameters)
        self.told(compiled.sql)
        return compiled.rows(raw)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _json_codecs() -> list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], str]]:
    # As SQLAlchemy's asyncpg dialect sets them up on its own connections (with the
    # engine's `json_deserializer`), so a JSON column reads the same through either.
    return [
        ("json", str.encode, loads_stored_json, "binary"),
        (
            "jsonb",
            lambda text: b"\x01" + text.encode(),
            lambda value: loads_stored_json(value[1:]),
            "binary",
        ),
    ]


async def _set_codecs(connection: Any) -> None:
    for name, encoder, decoder, format_ in _json_codecs():
        await connection.set_type_codec(
            name, encoder=encoder, decoder=decoder, schema="pg_catalog", format=format_
        )


class AsyncpgReads(Listeners):
    """asyncpg connections of this process's own, each serving one read at a time.

    Not asyncpg's `Pool`: it gives each connection back in a task of its own
    (`asyncio.shield`), two more turns of the event loop per read, about 35 µs
    of CPU, a twentieth of a progress request. These connections only ever run
    one SELECT outside any transaction, which leaves nothing to reset, so a read
    takes an idle connection (or opens one, at most `max_size` at a time) and
    puts it back; one that anything went wrong with is dropped instead.

    A database that stops answering costs a read at most `pool_seconds` to get a
    connection (a new one's `connect_seconds` included) or `statement_seconds`
    (plus a margin) for its statement; asyncpg's own defaults wait a minute.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        timeouts: DatabaseTimeouts,
        *,
        max_size: int = POOL_SIZE,
    ) -> None:
        super().__init__()
        # The engine's database, as asyncpg itself is told it.
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._timeouts = timeouts
        self._statements = CompiledStatements(engine.dialect)
        # Made in the loop of the first read, as the connections are.
        self._open_slots: asyncio.Semaphore | None = None
        self._max_size = max_size
        self._idle: list[Any] = []
        self._closed = False

    async def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        compiled = self._statements.get(statement)
        slots = self._open_slots or self._slots()
        async with asyncio.timeout(self._timeouts.pool_seconds):
            await slots.acquire()
            try:
                connection = await self._take()
            except BaseException:
                slots.release()
                raise
        try:
            raw = await self._fetch(connection, compiled.sql, compiled.arguments(parameters))
        finally:
            slots.release()
        self.told(compiled.sql)
        return compiled.rows(raw)

    def _slots(self) -> asyncio.Semaphore:
        self._open_slots = asyncio.Semaphore(self._max_size)
        return self._open_slots

    async def _take(self) -> Any:
        if self._closed:
            raise ConnectionError("the reads are closed")
        while self._idle:
            connection = self._idle.pop()  # the most recently used: its statements are prepared
            if not connection.is_closed():
                return connection
        # Nothing connects until a read needs it, so a database that is down fails
        # the request (503), not the app's start.
        connection = await asyncpg.connect(
            self._dsn,
            timeout=self._timeouts.connect_seconds,
            **_statement_deadline(self._timeouts.statement_seconds),
        )
        try:
            await _set_codecs(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def _fetch(self, connection: Any, sql: str, arguments: list[Any]) -> list[Any]:
        try:
            raw: list[Any] = await connection.fetch(sql, *arguments)
        except asyncpg.InternalClientError as error:
            # A connection serves one read at a time, so "another operation is in
            # progress" means the server went away in the middle of an earlier one
            # (seen while PostgreSQL stopped): the database is what is unavailable.
            connection.terminate()
            raise ConnectionError(f"connection left mid-operation: {error}") from error
        except asyncpg.PostgresError:
            # The server answered (it cancelled a statement over its budget, say):
            # the connection serves the next read, unless the server closed it.
            self._put_back(connection)
            raise
        except BaseException:
            # The client's deadline passed (the server did not answer), the
            # connection broke, or the read was cancelled mid-statement: whatever
            # the connection is still doing, it is dropped, not waited for.
            connection.terminate()
            raise
        self._put_back(connection)
        return raw

    def _put_back(self, connection: Any) -> None:
        if self._closed or connection.is_closed():
            connection.terminate()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            try:
                await connection.close(timeout=self._timeouts.connect_seconds)
            except Exception:  # a server that does not answer the goodbye: just leave
                connection.terminate()


def _statement_deadline(statement_seconds: float | None) -> dict[str, Any]:
    if statement_seconds is None:
        return {}
    return {
        "command_timeout": statement_seconds + _CLIENT_MARGIN_SECONDS,
        "server_settings": {"statement_timeout": str(round(statement_seconds * 1000))},
    }


async def fetch_all(
    source: Transaction | Reads, statement: Select[Any], parameters: Mapping[str, Any]
) -> Sequence[Any]:
    """The rows of `statement`, in `source`'s transaction or on its fast reads.

    For the repositories' reads, which run both inside a write transaction (on
    its connection) and on their own (on `Reads`).
    """
    if isinstance(source, Transaction):
        rows: Sequence[Any] = (await source.execute(statement, dict(parameters))).all()
        return rows
    return await source.all(statement, parameters)


def reads_for(engine: AsyncEngine, timeouts: DatabaseTimeouts | None = None) -> Reads:
    """The fastest reads the engine's database allows; through the engine itself otherwise.

    `timeouts`: the engine's (`create_engine`), so a read gives up when a statement
    through the engine would.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return SQLiteReads(engine, str(url.database))
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return AsyncpgReads(engine, timeouts or DatabaseTimeouts())
    return EngineReads(engine)
