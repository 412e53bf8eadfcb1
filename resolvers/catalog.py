"""The offline catalog kept in the database: loading it for the provider and filling it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from db.catalog_repository import all_catalog_entries, count_present, upsert_catalog_entries
from db.engine import read_transaction, write_transaction
from discovery import CatalogEntry, CatalogProvider, load_bundled_catalog

logger = logging.getLogger(__name__)


def catalog_provider(engine: AsyncEngine) -> CatalogProvider:
    """A CatalogProvider that reads the catalog table afresh for every discovery.

    Nothing is cached in the process, so an import made by any process (or the
    CLI) is used by the next request everywhere.
    """

    async def load() -> Sequence[CatalogEntry]:
        async with read_transaction(engine) as connection:
            return await all_catalog_entries(connection)

    return CatalogProvider(load)


async def import_catalog(engine: AsyncEngine, entries: Sequence[CatalogEntry]) -> None:
    """Add the entries, replacing any the catalog already holds for the same domain."""
    async with write_transaction(engine) as connection:
        await upsert_catalog_entries(connection, entries)


async def ensure_bundled_catalog(engine: AsyncEngine) -> int:
    """Add the bundled sample entries the catalog lacks; how many were added.

    Entries already present are left alone, so an imported entry for the same
    domain wins. When all are present this is one read, with no write lock taken.
    """
    entries = await asyncio.to_thread(load_bundled_catalog)
    domains = [entry.domain for entry in entries]
    async with read_transaction(engine) as connection:
        present = await count_present(connection, domains)
    if present == len(domains):
        return 0
    async with write_transaction(engine) as connection:
        await upsert_catalog_entries(connection, entries, replace=False)
    logger.info("added %d bundled catalog entries", len(domains) - present)
    return len(domains) - present
