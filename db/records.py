"""Plain, immutable copies of stored rows: what the onboarding rules read and return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
