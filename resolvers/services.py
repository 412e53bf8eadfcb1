"""What the resolvers need from the outside world, handed to them per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.secrets import SecretBox


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    engine: AsyncEngine
    secret_box: SecretBox
    clock: Callable[[], datetime] = utc_now
