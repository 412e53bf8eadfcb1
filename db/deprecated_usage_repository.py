"""The deprecated-usage table: adding a batch of tallies, and the report over a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from db.conflict_insert import conflict_insert
from db.engine import Transaction
from db.models import deprecated_usage as _usage
from db.records import DeprecatedUsageSummary, DeprecatedUsageTally
from db.rows import column_values, from_row


def _later(connection: Transaction, stored: Any, incoming: Any) -> Any:
    # Two arguments: SQLite's scalar max(), PostgreSQL's greatest().
    if connection.dialect.name == "postgresql":
        return func.greatest(stored, incoming)
    return func.max(stored, incoming)


async def add_deprecated_usage(
    connection: Transaction, tallies: Sequence[DeprecatedUsageTally]
) -> None:
    """Add the tallies to what is stored, in one statement.

    An upsert that adds: processes and replicas each write their own counts for
    the same coordinate, client and day, and none overwrites another's.
    """
    if not tallies:
        return
    statement = conflict_insert(connection, _usage)
    statement = statement.on_conflict_do_update(
        index_elements=[_usage.c.coordinate, _usage.c.client, _usage.c.day],
        set_={
            "uses": _usage.c.uses + statement.excluded.uses,
            "last_used_at": _later(
                connection, _usage.c.last_used_at, statement.excluded.last_used_at
            ),
        },
    )
    await connection.execute(statement, [column_values(tally) for tally in tallies])


async def deprecated_usage_since(
    connection: Transaction, first_day: date
) -> list[DeprecatedUsageSummary]:
    """Uses per coordinate and client from `first_day` on (UTC days), most used first."""
    uses = func.sum(_usage.c.uses).label("uses")
    rows = (
        await connection.execute(
            select(
                _usage.c.coordinate,
                _usage.c.client,
                uses,
                func.max(_usage.c.last_used_at).label("last_used_at"),
            )
            .where(_usage.c.day >= first_day)
            .group_by(_usage.c.coordinate, _usage.c.client)
            .order_by(_usage.c.coordinate, uses.desc(), _usage.c.client)
        )
    ).all()
    return [from_row(DeprecatedUsageSummary, row, uses=int(row.uses)) for row in rows]
