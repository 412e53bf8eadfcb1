"""Tell "the database cannot be reached right now" apart from every other database error.

A connection-level failure is the operator's problem and passes once the
database is back: the API answers it as SERVICE_UNAVAILABLE (HTTP 503), where
any other error stays a masked INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from sqlalchemy import exc

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe (asyncpg raises these unwrapped)
    socket.gaierror,  # the database's host name does not resolve
    # connecting or a statement took too long (asyncpg's timeouts); on SQLite, no turn
    # to write in time (db.writer_queue.WriterQueueTimeoutError)
    TimeoutError,
    exc.TimeoutError,  # every pooled connection busy waiting on a database that does not answer
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and "connection was closed"
    # class 57: shutting down, starting up, and statement_timeout (57014, query_canceled)
    asyncpg.exceptions.OperatorInterventionError,
)
# SQLite's OperationalError also means "no such table" and the like: only these pass.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")

_NETWORK_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT}


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        original = getattr(current, "orig", None)
        if isinstance(original, BaseException):
            pending.append(original)
        pending.extend((current.__cause__, current.__context__))


def is_database_unavailable(error: BaseException) -> bool:
    """`error`, or anything that caused it, says the database cannot be reached."""
    for cause in _causes(error):
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _UNAVAILABLE) or (
            isinstance(cause, OSError) and cause.errno in _NETWORK_ERRNOS
        ):
            return True
        if isinstance(cause, sqlite3.OperationalError) and str(cause).lower().startswith(
            _SQLITE_UNAVAILABLE
        ):
            return True
    return False
