"""`onboarding-api deprecations`: who still uses what is deprecated, from the database.

It answers "may we delete `sessionId` today?" from what every process and
replica has written (see `app/deprecated_usage_ledger.py`), whatever has
restarted since. Uses of the last flush interval of a running service are
not in yet.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from db.deprecated_usage_repository import deprecated_usage_since
from db.engine import create_engine, read_transaction
from db.records import DeprecatedUsageSummary

_DAYS = re.compile(r"(\d{1,5})d")


def first_day(since: str, today: date) -> date:
    """`30d` (the last 30 days and today) or an ISO date; ValueError otherwise."""
    days = _DAYS.fullmatch(since.strip())
    if days is not None:
        return today - timedelta(days=int(days.group(1)))
    return date.fromisoformat(since.strip())


async def usage_since(database_url: str, day: date) -> list[DeprecatedUsageSummary]:
    engine = create_engine(database_url)
    try:
        async with read_transaction(engine) as connection:
            return await deprecated_usage_since(connection, day)
    finally:
        await engine.dispose()


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_report(
    deprecated: Sequence[str], usage: Sequence[DeprecatedUsageSummary], day: date
) -> str:
    """Each deprecated coordinate with its clients, uses and last use, or that none was used.

    Coordinates no longer in the schema but still recorded are listed too.
    """
    by_coordinate: dict[str, list[DeprecatedUsageSummary]] = defaultdict(list)
    for summary in usage:
        by_coordinate[summary.coordinate].append(summary)
    since = f"since {day.isoformat()} (UTC), authenticated requests only"
    if not by_coordinate:
        lines = [f"No deprecated field, argument or input field was used {since}."]
        lines += [f"{coordinate}  not used" for coordinate in deprecated]
        return "\n".join(lines)
    lines = [f"Deprecated usage {since}:"]
    used = sorted(by_coordinate.items(), key=lambda item: (-sum(s.uses for s in item[1]), item[0]))
    for coordinate, summaries in used:
        total = sum(summary.uses for summary in summaries)
        latest = max(summary.last_used_at for summary in summaries)
        lines.append(f"{coordinate}  {total} uses, last {_moment(latest)}")
        width = max(len(summary.client) for summary in summaries)
        lines += [
            f"  {summary.client:<{width}}  {summary.uses:>8}  last {_moment(summary.last_used_at)}"
            for summary in summaries
        ]
    lines += [
        f"{coordinate}  not used" for coordinate in deprecated if coordinate not in by_coordinate
    ]
    return "\n".join(lines)
