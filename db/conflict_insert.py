"""INSERT … ON CONFLICT: SQLite and PostgreSQL spell it alike, SQLAlchemy builds it per dialect."""

from __future__ import annotations

import functools
from typing import TypeAlias

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from db.engine import Transaction

ConflictInsert: TypeAlias = postgresql.Insert | sqlite.Insert


def conflict_insert(connection: Transaction, table: Table) -> ConflictInsert:
    """An INSERT into `table` that can say what a conflict does (`on_conflict_do_…`).

    The generic insert() cannot; and a plain insert that fails on a conflict
    would abort the whole PostgreSQL transaction.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def insert_or_ignore(dialect_name: str, table: Table) -> ConflictInsert:
    """INSERT … ON CONFLICT DO NOTHING into `table`, built once per dialect.

    Statements are immutable, so one serves every call; a statement built per
    call is compiled per call when it runs on the driver (`db.driver_statements`).
    """
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
