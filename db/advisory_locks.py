"""Named locks a write transaction holds until it ends: PostgreSQL's advisory transaction locks.

SQLite needs none: every write transaction there begins IMMEDIATE and so already
excludes every other writer. Under READ COMMITTED (PostgreSQL's default, which
the engine keeps) each statement after the lock sees everything the previous
holder committed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from db.engine import Transaction

LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(name: str) -> int:
    """The lock's key: pg_advisory_xact_lock takes one bigint, the first 8 bytes of a
    hash of the name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_sql(name: str) -> str:
    """The lock as SQL with its key written in (an integer), to be sent with another statement."""
    return f"SELECT pg_advisory_xact_lock({lock_key(name)})"


async def take_lock(connection: Transaction, name: str) -> None:
    """Hold the lock named `name` until `connection`'s transaction ends (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(LOCK, {"key": lock_key(name)})
