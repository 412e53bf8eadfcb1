"""How long the service waits on its database before it calls the database unavailable."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONNECT_SECONDS = 1.0
DEFAULT_STATEMENT_SECONDS = 1.5
DEFAULT_POOL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Deadlines for each place a database can stall a request.

    The defaults make a database that stops answering (a frozen server, a
    network partition) cost a request at most about 3 s before it is answered
    SERVICE_UNAVAILABLE, whichever way the request meets it, leaving the rest
    of the 5 s the service promises to a busy machine. The waits add up: a
    request may wait `pool_seconds` for a pooled connection, then either find
    it dead by its ping (0.5 s) and fail to open a new one (`connect_seconds`),
    or send a statement the server never answers (`statement_seconds` plus the
    client's 0.5 s margin): 1 + 0.5 + 1 or 1 + 2 s. Once a ping or a statement
    times out the pool drops every connection it holds, so later requests wait
    on `connect_seconds` alone. Every statement the service runs is a small
    indexed read or write.

    - `connect_seconds`: opening a connection, authentication included.
    - `statement_seconds`: one statement (PostgreSQL `statement_timeout`; on
      SQLite, how long a writer waits for the write lock). None: no limit, for
      migrations and imports, which may legitimately run long.
    - `pool_seconds`: waiting for a pooled connection and, on SQLite, for this
      process's turn to write.
    """

    connect_seconds: float = DEFAULT_CONNECT_SECONDS
    statement_seconds: float | None = DEFAULT_STATEMENT_SECONDS
    pool_seconds: float = DEFAULT_POOL_SECONDS


# Operator commands (migrate, catalog import) wait as long as the work needs.
MAINTENANCE_TIMEOUTS = DatabaseTimeouts(
    connect_seconds=10.0, statement_seconds=None, pool_seconds=30.0
)
