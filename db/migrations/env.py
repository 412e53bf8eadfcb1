"""Alembic environment: runs the migrations on the service's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db.engine import create_engine
from db.migration_lock import lock_for_migrations, sqlite_migration_lock
from db.models import metadata
from db.timeouts import MAINTENANCE_TIMEOUTS

# What autogenerate compares the database with.
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        # Before Alembic reads the current revision, so a migrator that waited
        # here sees what the one before it did.
        lock_for_migrations(connection)
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(url, MAINTENANCE_TIMEOUTS)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported; run `onboarding-api migrate`"
    )

connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    database_url = context.config.get_main_option("sqlalchemy.url") or ""
    with sqlite_migration_lock(database_url):
        asyncio.run(_run_online(database_url))
