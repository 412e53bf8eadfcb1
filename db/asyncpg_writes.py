"""PostgreSQL write transactions on the asyncpg connection itself, not through the async engine.

Through the async engine every statement of a transaction pays a greenlet
switch, an execution context and a result object: a transaction of a read,
two updates and a NOTIFY cost 0.9 ms of CPU that way, against 0.45 ms with
the same statements on the asyncpg connection directly (a probe of 2,000
transactions). The connection is still the engine's own, checked out of its
pool and given back to it, so the pool's size, its ping after idleness, the
deadlines (`DatabaseTimeouts`) and the JSON codecs stay the engine's. What
runs on it is Core, compiled once by the engine's dialect
(`db.driver_statements`), between a BEGIN and a COMMIT sent on the driver.

A NOTIFY the transaction makes (`notify_on_commit`) is sent with its COMMIT, in
one round trip: PostgreSQL delivers a NOTIFY only at commit anyway.

What the engine would do on an error, this does too: a connection whose
server stopped answering (a timeout, a broken connection) is invalidated and
so never reused; any other error rolls the transaction back; a unique or
foreign-key violation is raised as SQLAlchemy's IntegrityError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from sqlalchemy import String, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from db.advisory_locks import lock_sql
from db.availability import is_database_unavailable
from db.driver_statements import DriverResult, DriverWriteConnection, DriverWriter, Parameters

# The connection cannot serve another statement after these. (OSError: refused, reset,
# and TimeoutError, asyncpg's client-side deadline. InternalClientError: "another
# operation is in progress", seen when the server went away in the middle of one.)
_CONNECTION_LOST = (OSError, asyncpg.PostgresConnectionError, asyncpg.InternalClientError)
_TEXT = String()


def _row_count(status: str) -> int:
    # The command tag: "UPDATE 2", "DELETE 0", "INSERT 0 1".
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else -1


class AsyncpgWriteConnection(DriverWriteConnection["AsyncpgWriter"]):
    """A write transaction's connection, with the `execute` the repositories await."""

    __slots__ = ("_sent_with_commit",)

    def __init__(self, driver: Any, writer: AsyncpgWriter) -> None:
        super().__init__(driver, writer)
        self._sent_with_commit: list[str] = []

    def notify_on_commit(self, channel: str, payload: str) -> None:
        """NOTIFY `channel` with `payload` if, and when, this transaction commits.

        Sent in front of the COMMIT, in the same round trip.
        """
        self._sent_with_commit.append(self._writer.notify_sql(channel, payload))

    def commit_sql(self) -> str:
        """The COMMIT, after the statements that wait for it."""
        return "".join(self._sent_with_commit) + "COMMIT"

    async def execute(self, statement: Executable, parameters: Parameters = None) -> DriverResult:
        compiled, each = self._writer.prepared(statement, parameters)
        try:
            if len(each) > 1:
                arguments = [compiled.arguments(one) for one in each]
                await self._driver.executemany(compiled.sql, arguments)
                return DriverResult([], -1)
            if compiled.returns_rows:
                raw = await self._driver.fetch(compiled.sql, *compiled.arguments(each[0]))
                rows = compiled.rows(raw)
                return DriverResult(rows, len(rows))
            status = await self._driver.execute(compiled.sql, *compiled.arguments(each[0]))
            return DriverResult([], _row_count(status))
        except asyncpg.IntegrityConstraintViolationError as error:
            raise exc.IntegrityError(compiled.sql, parameters, error) from error


class AsyncpgWriter(DriverWriter):
    """The write transactions of an engine on asyncpg, run on its connections' driver."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine.dialect)
        self._engine = engine
        # The dialect's own quoting (it knows the server's standard_conforming_strings).
        self._literal_compiler = engine.dialect.statement_compiler(engine.dialect, None)

    def notify_sql(self, channel: str, payload: str) -> str:
        """`pg_notify` with its values written in (no parameters: it is sent with COMMIT)."""
        literal = self._literal_compiler.render_literal_value
        sql = f"SELECT pg_notify({literal(channel, _TEXT)}, {literal(payload, _TEXT)});"
        self.told(sql)
        return sql

    def _opening_sql(self, serialised_by: str | None) -> str:
        if serialised_by is None:
            return "BEGIN"
        lock = lock_sql(serialised_by)
        self.told(lock)
        return f"BEGIN;{lock}"

    @asynccontextmanager
    async def transaction(
        self, serialised_by: str | None = None
    ) -> AsyncIterator[AsyncpgWriteConnection]:
        """One transaction on a pooled connection: committed on success, else rolled back.

        `serialised_by`: a lock (`db.advisory_locks`) taken with the BEGIN, in one round trip.
        """
        async with self._engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None, "a connection the pool has just checked out"
            try:
                await driver.execute(self._opening_sql(serialised_by))
                write = AsyncpgWriteConnection(driver, self)
                yield write
                status = await driver.execute(write.commit_sql())
            except BaseException as error:
                if await _end_failed(connection, driver, error):
                    raise
                # asyncpg says "connection is closed" as an InterfaceError, which
                # also means a programming error: this one is the database's.
                raise ConnectionError(f"the database connection was lost: {error}") from error
            if status != "COMMIT":  # the server rolled back a transaction an error had aborted
                raise exc.InvalidRequestError(f"the transaction was not committed: {status}")


async def _end_failed(connection: AsyncConnection, driver: Any, error: BaseException) -> bool:
    """End the failed transaction; whether `error` says what happened as it is.

    A server that stopped answering (the client's deadline passed) would not
    answer a ROLLBACK either, and a lost connection cannot send one: the pool
    discards the connection. A statement the server cancelled (its
    statement_timeout) leaves the connection usable once rolled back, as
    through the engine. A ROLLBACK the server does not answer raises the
    database's unavailability in place of `error`.
    """
    if driver.is_closed() or isinstance(error, _CONNECTION_LOST):
        await connection.invalidate(error)
        return not isinstance(error, Exception) or is_database_unavailable(error)
    try:
        await driver.execute("ROLLBACK")
    except Exception as failed:
        # Told why, the pool closes a connection whose server stopped answering at
        # once, not politely (2 s more on a frozen server).
        await connection.invalidate(failed)
        if is_database_unavailable(failed):
            # The server stopped answering after the transaction failed (a version
            # conflict, say): that is what the caller must hear, or it would try
            # again and wait on the database a second time.
            raise failed from error
    except BaseException:  # cancelled while rolling back: whether it did is unknown
        await connection.invalidate()
        raise
    return True
