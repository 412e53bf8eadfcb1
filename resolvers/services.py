"""What the resolvers need from the outside world, handed to them per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from discovery import CompetitorProvider
from resolvers.secrets import SecretBox


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DiscoveryPolicy:
    """Where competitors come from and the limits discoveries run under."""

    provider: CompetitorProvider
    timeout_seconds: float = 30.0
    per_minute: int = 10
    cache_ttl: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Services:
    engine: AsyncEngine
    secret_box: SecretBox
    clock: Callable[[], datetime] = utc_now
    # None means the offline catalog in `engine` with the default limits.
    discovery: DiscoveryPolicy | None = None
