"""How long the service waits on its database before it calls the database unavailable."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONNECT_SECONDS = 1.5
DEFAULT_STATEMENT_SECONDS = 2.0
DEFAULT_POOL_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Deadlines for each place a database can stall a request.

    The defaults make a database that stops answering (a frozen server, a
    network partition) cost a request at most about 3.5 s before it is answered
    SERVICE_UNAVAILABLE. A statement on an open connection gives up after
    `statement_seconds` plus a 0.5 s client-side margin; a pooled connection is
    pinged (1 s) before use; once either times out the pool drops every
    connection it holds. The longest chain is then a request that waited
    `pool_seconds` for a connection and `connect_seconds` for a new one
    (measured: 3.0-4.0 s with 30 concurrent clients on a busy 2-core machine).
    Every statement the service runs is a small indexed read or write.

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
