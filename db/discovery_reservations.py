"""The discovery rate limit's ledger: one row per new job, kept apart from the job's content.

A hard reset deletes a user's discoveries, not their reservations, so
deleting discoveries never gives back rate limit that was used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, delete, func, insert, select

from db.engine import Transaction
from db.models import discovery_reservations as _reservations

# Built once: a statement built per call costs more CPU (construction and its
# cache key) than running it on SQLite.
_MADE_SINCE = (
    select(func.count())
    .where(
        _reservations.c.user_id == bindparam("user_id"),
        _reservations.c.reserved_at > bindparam("since"),
    )
    .scalar_subquery()
)
# The count and the reservation in one statement: one round trip, not two.
_RESERVE_WITHIN = insert(_reservations).from_select(
    ["id", "user_id", "reserved_at"],
    select(
        bindparam("id", type_=_reservations.c.id.type),
        bindparam("user_id", type_=_reservations.c.user_id.type),
        bindparam("reserved_at", type_=_reservations.c.reserved_at.type),
    ).where(bindparam("at_most", type_=Integer) > _MADE_SINCE),
)
# The sweep's, every few seconds: on the driver writers a statement is compiled once
# per statement object, so one built per call would be compiled at every sweep.
_PRUNE_UNTIL = delete(_reservations).where(_reservations.c.reserved_at <= bindparam("until"))
_COUNT_SINCE = select(func.count(), func.min(_reservations.c.reserved_at)).where(
    _reservations.c.user_id == bindparam("user_id"),
    _reservations.c.reserved_at > bindparam("since"),
)


async def reserve_discovery_within(
    connection: Transaction, job_id: str, user_id: str, at: datetime, *, since: datetime, limit: int
) -> bool:
    """Count the new job `job_id` against its user from `at` on, unless the user already
    reserved `limit` jobs after `since`; whether it was reserved.

    The count and the reservation are one statement; under the user's submission
    lock no other reservation of theirs can come between.
    """
    parameters = {
        "id": job_id,
        "user_id": user_id,
        "reserved_at": at,
        "since": since,
        "at_most": limit,
    }
    return (await connection.execute(_RESERVE_WITHIN, parameters)).rowcount == 1


async def count_reservations_since(
    connection: Transaction, user_id: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many jobs the user reserved after `since`, and when the oldest of them was.

    Every job counts, whatever became of it or its discovery.
    """
    row = (await connection.execute(_COUNT_SINCE, {"user_id": user_id, "since": since})).one()
    count, oldest = row
    return int(count), oldest


async def prune_reservations(connection: Transaction, until: datetime) -> int:
    """Delete the reservations made at or before `until` (no longer counted); how many."""
    result = await connection.execute(_PRUNE_UNTIL, {"until": until})
    return result.rowcount


__all__ = ["count_reservations_since", "prune_reservations", "reserve_discovery_within"]
