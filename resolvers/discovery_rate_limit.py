"""The discovery rate limit: at most `per_minute` new jobs per user in any minute.

A new job is a paid provider attempt whether it succeeds, fails or is deleted
by a hard reset afterwards, so the limit counts reservations
(`db/discovery_reservations.py`), which only age out, never the discoveries.
Joins and cache hits make no job and reserve nothing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from db.discovery_reservations import (
    count_reservations_since,
    prune_reservations,
    reserve_discovery_within,
)
from db.engine import Transaction
from resolvers.errors import ErrorCode, Problem
from resolvers.services import DiscoveryPolicy

RATE_WINDOW = timedelta(minutes=1)


def _rate_limited(policy: DiscoveryPolicy, oldest: datetime | None, now: datetime) -> Problem:
    wait = (oldest + RATE_WINDOW - now).total_seconds() if oldest is not None else 1.0
    seconds = max(1, math.ceil(wait))
    return Problem(
        ErrorCode.RATE_LIMITED,
        f"At most {policy.per_minute} new discoveries a minute; try again in {seconds} seconds.",
    )


async def reserve_within_limit(
    connection: Transaction,
    policy: DiscoveryPolicy,
    user_id: str,
    job_id: str,
    now: datetime,
) -> Problem | None:
    """Reserve the new job `job_id`, or RATE_LIMITED if the user's minute is used up.

    Only sound under the user's submission lock, in the transaction that
    stores the job: the count and the reservation must not be split.
    """
    since = now - RATE_WINDOW
    if await reserve_discovery_within(
        connection, job_id, user_id, now, since=since, limit=policy.per_minute
    ):
        return None
    # Refused: only now is it worth asking when the user's minute frees up.
    _made, oldest = await count_reservations_since(connection, user_id, since)
    return _rate_limited(policy, oldest, now)


async def prune_spent_reservations(connection: Transaction, now: datetime) -> int:
    """Delete the reservations the limit no longer counts; how many."""
    return await prune_reservations(connection, now - RATE_WINDOW)
