"""One migrator at a time per database, whichever process or replica runs it.

Replicas that start together on an empty database would otherwise all find no
`alembic_version` table and all create the same tables; every loser fails
(PostgreSQL: `IntegrityError ... pg_type_typname_nsp_index`). The winner
migrates while the others wait, then they find the database up to date.

- PostgreSQL: a transaction-level advisory lock, taken in the migration's own
  transaction before Alembic reads the current revision; released by its
  commit or rollback, or by the server if the migrator dies.
- SQLite: an operating-system file lock beside the database file, taken before
  the first connection; released by the kernel if the migrator dies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock
from sqlalchemy.engine import Connection, make_url

from db.advisory_locks import LOCK

# Any fixed 64-bit key, the same in every replica: crc32(b"onboarding-api migrations").
MIGRATION_LOCK_KEY = 1028814280


def lock_for_migrations(connection: Connection) -> None:
    """On PostgreSQL, wait until no other migrator holds the lock, then hold it."""
    if connection.dialect.name == "postgresql":
        connection.execute(LOCK, {"key": MIGRATION_LOCK_KEY})


@contextmanager
def sqlite_migration_lock(database_url: str) -> Iterator[None]:
    """On a SQLite file, hold `<file>.migrate-lock` for the duration; elsewhere do nothing."""
    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with FileLock(f"{database}.migrate-lock"):
        yield
