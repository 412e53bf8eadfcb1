"""The offline competitor catalog's table: bulk upserts and reading it whole."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from db.conflict_insert import conflict_insert
from db.engine import Transaction
from db.models import catalog_entries as _catalog
from db.rows import column_values, from_row
from discovery import CatalogEntry

# Keeps each statement's bind parameters well under SQLite's and asyncpg's limits.
_BATCH = 500
_UPDATED = ("url", "name", "description", "industry", "social")


async def upsert_catalog_entries(
    connection: Transaction, entries: Sequence[CatalogEntry], *, replace: bool = True
) -> None:
    """Insert the entries; an existing domain is overwritten, or kept when `replace` is False."""
    for start in range(0, len(entries), _BATCH):
        statement = conflict_insert(connection, _catalog)
        if replace:
            statement = statement.on_conflict_do_update(
                index_elements=[_catalog.c.domain],
                set_={name: statement.excluded[name] for name in _UPDATED},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=[_catalog.c.domain])
        batch = entries[start : start + _BATCH]
        # The JSON column takes a dict, not any mapping.
        await connection.execute(
            statement, [column_values(entry, social=dict(entry.social)) for entry in batch]
        )


async def count_present(connection: Transaction, domains: Sequence[str]) -> int:
    """How many of `domains` the catalog already holds."""
    present = 0
    for start in range(0, len(domains), _BATCH):
        batch = list(domains[start : start + _BATCH])
        present += (
            await connection.execute(select(func.count()).where(_catalog.c.domain.in_(batch)))
        ).scalar_one()
    return present


async def all_catalog_entries(connection: Transaction) -> list[CatalogEntry]:
    rows = (await connection.execute(select(_catalog).order_by(_catalog.c.domain))).all()
    return [from_row(CatalogEntry, row, social=dict(row.social or {})) for row in rows]
