"""Custom scalars. Each carries @specifiedBy so generated clients know the wire format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

DATE_TIME_SPEC = "https://scalars.graphql.org/chillicream/date-time.html"


def _serialize_date_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_date_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string with an offset")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry an offset, e.g. 2026-01-31T12:00:00+00:00")
    return parsed.astimezone(UTC)


DateTimeScalar: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An instant in time: ISO-8601 (RFC 3339) with an offset, always UTC here.",
    specified_by_url=DATE_TIME_SPEC,
    serialize=_serialize_date_time,
    parse_value=_parse_date_time,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DateTimeScalar}
