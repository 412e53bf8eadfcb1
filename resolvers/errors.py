"""What can go wrong in an onboarding rule, as data the API turns into `userErrors`.

RuleViolationError            one or more problems; nothing was changed
└── ConflictError        the change lost the optimistic check too many times
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class RuleViolationError(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = tuple(problems)

    @classmethod
    def single(
        cls, code: ErrorCode, message: str, field: tuple[str, ...] | None = None
    ) -> RuleViolationError:
        return cls([Problem(code, message, field)])


class ConflictError(RuleViolationError):
    def __init__(self) -> None:
        super().__init__(
            [
                Problem(
                    ErrorCode.CONFLICT,
                    "Your onboarding was changed by another request at the same time; try again.",
                )
            ]
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request. `field` is the path from the mutation's arguments."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    STEP_NOT_FOUND = "STEP_NOT_FOUND"
    STEP_LOCKED = "STEP_LOCKED"
    STEP_NOT_SKIPPABLE = "STEP_NOT_SKIPPABLE"
    REQUIRED_STEPS_INCOMPLETE = "REQUIRED_STEPS_INCOMPLETE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_MISCONFIGURED = "PROVIDER_MISCONFIGURED"
