"""The onboarding rules: pure functions from a progress (and a clock reading) to a progress.

No I/O here. Every figure the API shows (current step, percentage, locks) comes
from these functions, so there is one formula everywhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from db.records import ProgressRecord, StepRecord, StepStatus
from resolvers.errors import ErrorCode, RuleViolationError
from resolvers.steps import FINAL_STEP, STEPS, StepDefinition, step_definition

DONE = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})


def current_step(progress: ProgressRecord) -> int:
    """The lowest step neither completed nor skipped; the last step once all are done."""
    for step in progress.steps:
        if step.status not in DONE:
            return step.number
    return FINAL_STEP


def completion_percentage(progress: ProgressRecord) -> float:
    done = sum(1 for step in progress.steps if step.status in DONE)
    return round(done / len(STEPS) * 100, 1)


def is_locked(progress: ProgressRecord, number: int) -> bool:
    """Whether an earlier step is still neither completed nor skipped (`number` is 1 to 6)."""
    return locked_steps(progress)[number - 1]


def locked_steps(progress: ProgressRecord) -> list[bool]:
    """`is_locked` of every step, in order, in one pass over the steps."""
    locked: list[bool] = []
    open_before = False
    for step in progress.steps:
        locked.append(open_before)
        open_before = open_before or step.status not in DONE
    return locked


def is_complete(progress: ProgressRecord) -> bool:
    return progress.completed_at is not None


def incomplete_prerequisites(progress: ProgressRecord) -> list[StepDefinition]:
    """Steps before the last that still stand between the user and finishing.

    Required steps must be completed; optional ones completed or skipped.
    """
    missing = []
    for definition in STEPS[:-1]:
        status = progress.step(definition.number).status
        finished = status is StepStatus.COMPLETED or (
            not definition.required and status is StepStatus.SKIPPED
        )
        if not finished:
            missing.append(definition)
    return missing


def can_complete_onboarding(progress: ProgressRecord) -> bool:
    return not incomplete_prerequisites(progress)


def _require_step(number: int, field: tuple[str, ...]) -> StepDefinition:
    definition = step_definition(number)
    if definition is None:
        raise RuleViolationError.single(
            ErrorCode.STEP_NOT_FOUND,
            f"There is no step {number}; steps are 1 to {len(STEPS)}.",
            field,
        )
    return definition


def _require_unlocked(progress: ProgressRecord, number: int, field: tuple[str, ...]) -> None:
    if is_locked(progress, number):
        raise RuleViolationError.single(
            ErrorCode.STEP_LOCKED,
            f"Step {number} is locked until step {current_step(progress)} is completed or skipped.",
            field,
        )


def _settled(
    step: StepRecord,
    status: StepStatus,
    now: datetime,
    data: Any | None = None,
    encrypted_secrets: bytes | None = None,
) -> StepRecord:
    """The step in `status`, holding only `data` and `encrypted_secrets`: no earlier
    errors, and a completion time only when COMPLETED (now)."""
    return replace(
        step,
        status=status,
        data=data,
        encrypted_secrets=encrypted_secrets,
        validation_errors=(),
        completed_at=now if status is StepStatus.COMPLETED else None,
        updated_at=now,
    )


def _with_step(progress: ProgressRecord, step: StepRecord, now: datetime) -> ProgressRecord:
    steps = tuple(step if old.number == step.number else old for old in progress.steps)
    return replace(progress, steps=steps, updated_at=now)


def check_step_can_be_completed(progress: ProgressRecord, number: int) -> StepDefinition:
    """The step's definition, if it exists and is unlocked; else a RuleViolationError."""
    field = ("input", "step")
    definition = _require_step(number, field)
    _require_unlocked(progress, number, field)
    if number == FINAL_STEP:
        _require_prerequisites(progress)
    return definition


def complete_step(
    progress: ProgressRecord,
    number: int,
    *,
    data: Any | None,
    encrypted_secrets: bytes | None,
    now: datetime,
) -> ProgressRecord:
    """Mark the step completed with `data`, replacing whatever it held before."""
    check_step_can_be_completed(progress, number)
    step = _settled(progress.step(number), StepStatus.COMPLETED, now, data, encrypted_secrets)
    completed = _with_step(progress, step, now)
    if number == FINAL_STEP:
        completed = replace(completed, completed_at=now)
    return completed


def record_failed_attempt(
    progress: ProgressRecord, number: int, messages: tuple[str, ...], now: datetime
) -> ProgressRecord:
    """Remember why an attempt failed, without losing what the step already holds.

    A step already completed or skipped keeps its status: a bad retry must not undo it.
    """
    step = progress.step(number)
    if step.status in DONE:
        return progress
    failed = replace(step, status=StepStatus.FAILED, validation_errors=messages, updated_at=now)
    return _with_step(progress, failed, now)


def skip_step(progress: ProgressRecord, number: int, now: datetime) -> ProgressRecord:
    field = ("input", "step")
    definition = _require_step(number, field)
    if definition.required:
        raise RuleViolationError.single(
            ErrorCode.STEP_NOT_SKIPPABLE,
            f"Step {number} ({definition.title}) is required and cannot be skipped.",
            field,
        )
    _require_unlocked(progress, number, field)
    return _with_step(progress, _settled(progress.step(number), StepStatus.SKIPPED, now), now)


def _require_prerequisites(progress: ProgressRecord) -> None:
    missing = incomplete_prerequisites(progress)
    if missing:
        listed = ", ".join(f"{step.number} ({step.title})" for step in missing)
        raise RuleViolationError.single(
            ErrorCode.REQUIRED_STEPS_INCOMPLETE,
            f"Onboarding cannot be completed yet; still to do: {listed}.",
        )


def complete_onboarding(progress: ProgressRecord, now: datetime) -> ProgressRecord:
    """Finish onboarding; finishing twice changes nothing."""
    if is_complete(progress):
        return progress
    _require_prerequisites(progress)
    return complete_step(progress, FINAL_STEP, data=None, encrypted_secrets=None, now=now)


def reset(progress: ProgressRecord, now: datetime) -> ProgressRecord:
    """Every step back to PENDING with nothing of its old data kept."""
    steps = tuple(_settled(step, StepStatus.PENDING, now) for step in progress.steps)
    return replace(progress, steps=steps, started_at=now, updated_at=now, completed_at=None)
