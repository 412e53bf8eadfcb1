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


class DiscoveryStatus(StrEnum):
    """Where a discovery job stands; PENDING and RUNNING are active, the others final.

    PENDING ──▶ RUNNING ──▶ COMPLETED
       ▲  │        │  └───▶ FAILED
       │  └────────┼──────▶ FAILED   (its process died too often, see the job runner)
       └───────────┘        (released at shutdown or taken over after a lost lease)
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = (DiscoveryStatus.PENDING, DiscoveryStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class DiscoveryRecord:
    """A stored competitor discovery.

    `result` is the provider's answer as plain JSON once COMPLETED, None before;
    a FAILED one says why in `failure_code` (a user-error code) and `failure_message`.
    """

    id: str
    user_id: str
    url: str
    domain: str
    industry_context: str | None
    requested_results: int
    provider: str
    result: dict[str, Any] | None
    created_at: datetime
    status: DiscoveryStatus = DiscoveryStatus.COMPLETED
    failure_code: str | None = None
    failure_message: str | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryJob:
    """A discovery with what a process needs to run (or take over) its job.

    `website_analysis_data` is kept only while the job is active: a process that
    takes the job over must ask the same question. `attempts` counts the
    provider attempts made; `lease_owner` is the process holding the job until
    `lease_expires_at`.
    """

    record: DiscoveryRecord
    website_analysis_data: Any | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None


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
