"""Plain, immutable copies of stored rows: what the onboarding rules read and return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class StepRecord:
    number: int
    status: StepStatus
    data: Any | None
    encrypted_secrets: bytes | None
    validation_errors: tuple[str, ...]
    completed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProgressRecord:
    user_id: str
    version: int
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    steps: tuple[StepRecord, ...]

    def step(self, number: int) -> StepRecord:
        return self.steps[number - 1]


@dataclass(frozen=True, slots=True)
class DiscoveryRecord:
    """A stored competitor discovery; `result` is the provider's answer as plain JSON."""

    id: str
    user_id: str
    url: str
    domain: str
    industry_context: str | None
    requested_results: int
    provider: str
    result: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CatalogRecord:
    """One company of the offline catalog; `social` maps network name to URL or None."""

    domain: str
    url: str
    name: str
    description: str
    industry: str
    social: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class DeprecatedUsageTally:
    """Uses of one deprecated coordinate by one client on one UTC day."""

    coordinate: str
    client: str
    day: date
    uses: int
    last_used_at: datetime


@dataclass(frozen=True, slots=True)
class DeprecatedUsageSummary:
    """Uses of one deprecated coordinate by one client over a period, and the latest."""

    coordinate: str
    client: str
    uses: int
    last_used_at: datetime
