"""The onboarding rules (DESIGN §4) as plain functions: no GraphQL, no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.records import ProgressRecord, StepRecord, StepStatus
from resolvers import rules
from resolvers.errors import ErrorCode, RuleViolationError

PENDING, IN_PROGRESS, COMPLETED, SKIPPED, FAILED = (
    StepStatus.PENDING,
    StepStatus.IN_PROGRESS,
    StepStatus.COMPLETED,
    StepStatus.SKIPPED,
    StepStatus.FAILED,
)
STARTED = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
NOW = STARTED + timedelta(hours=1)
STEP_FIELD = ("input", "step")


def progress(*statuses: StepStatus, completed_at: datetime | None = None) -> ProgressRecord:
    """A progress whose steps 1, 2, … have these statuses (the rest PENDING)."""
    padded = (*statuses, *[PENDING] * (6 - len(statuses)))
    return ProgressRecord(
        user_id="user-a",
        version=3,
        started_at=STARTED,
        updated_at=STARTED,
        completed_at=completed_at,
        steps=tuple(
            StepRecord(
                number=number,
                status=status,
                data={"step": number} if status is COMPLETED else None,
                encrypted_secrets=b"sealed" if number == 1 and status is COMPLETED else None,
                validation_errors=("was wrong",) if status is FAILED else (),
                completed_at=STARTED if status is COMPLETED else None,
                updated_at=STARTED,
            )
            for number, status in enumerate(padded, start=1)
        ),
    )


def violation(error: pytest.ExceptionInfo[RuleViolationError]) -> tuple[ErrorCode, object]:
    [problem] = error.value.problems
    return problem.code, problem.field


ALL_DONE = progress(COMPLETED, COMPLETED, COMPLETED, SKIPPED, COMPLETED)


@pytest.mark.parametrize(
    ("statuses", "current"),
    [
        ((), 1),
        ((COMPLETED, SKIPPED, PENDING, COMPLETED), 3),
        ((COMPLETED, FAILED), 2),
        ((COMPLETED, IN_PROGRESS), 2),
        ((COMPLETED, COMPLETED, COMPLETED, SKIPPED, SKIPPED), 6),
        ((COMPLETED,) * 6, 6),
    ],
)
def test_the_current_step_is_the_lowest_neither_completed_nor_skipped(
    statuses: tuple[StepStatus, ...], current: int
) -> None:
    assert rules.current_step(progress(*statuses)) == current


@pytest.mark.parametrize(
    ("statuses", "percentage"),
    [
        ((), 0.0),
        ((COMPLETED,), 16.7),
        ((COMPLETED, SKIPPED), 33.3),
        ((COMPLETED, FAILED, IN_PROGRESS), 16.7),
        ((COMPLETED, COMPLETED, COMPLETED), 50.0),
        ((COMPLETED, COMPLETED, COMPLETED, SKIPPED, COMPLETED, COMPLETED), 100.0),
    ],
)
def test_the_percentage_counts_completed_and_skipped_steps_of_six_to_one_decimal(
    statuses: tuple[StepStatus, ...], percentage: float
) -> None:
    assert rules.completion_percentage(progress(*statuses)) == percentage


def test_a_step_is_locked_until_every_earlier_step_is_completed_or_skipped() -> None:
    # given steps 1 completed, 2 failed
    failed_second = progress(COMPLETED, FAILED)
    # then 1 and 2 are open and everything after the failed step is locked
    assert [rules.is_locked(failed_second, n) for n in range(1, 7)] == [False, False] + [True] * 4
    # and a skipped step unlocks what follows it as a completed one does
    skipped_fourth = progress(COMPLETED, COMPLETED, COMPLETED, SKIPPED)
    assert not rules.is_locked(skipped_fourth, 5)
    assert not rules.is_locked(progress(), 1)


def test_finishing_needs_required_steps_completed_and_optional_ones_completed_or_skipped() -> None:
    # given required step 3 skipped (as stored) and optional step 5 still pending
    unfinished = progress(COMPLETED, COMPLETED, SKIPPED, SKIPPED)
    # then both stand in the way, in order, and step 6 itself is never a prerequisite
    assert [step.number for step in rules.incomplete_prerequisites(unfinished)] == [3, 5]
    assert not rules.can_complete_onboarding(unfinished)
    assert rules.incomplete_prerequisites(ALL_DONE) == []
    assert rules.can_complete_onboarding(ALL_DONE)


@pytest.mark.parametrize("number", [0, 7, -1])
def test_a_step_that_does_not_exist_cannot_be_completed_or_skipped(number: int) -> None:
    with pytest.raises(RuleViolationError) as completing:
        rules.check_step_can_be_completed(progress(), number)
    with pytest.raises(RuleViolationError) as skipping:
        rules.skip_step(progress(), number, NOW)
    assert violation(completing) == violation(skipping) == (ErrorCode.STEP_NOT_FOUND, STEP_FIELD)


def test_a_locked_step_cannot_be_completed_and_the_error_names_the_current_step() -> None:
    with pytest.raises(RuleViolationError) as error:
        rules.complete_step(progress(COMPLETED), 3, data={}, encrypted_secrets=None, now=NOW)
    assert violation(error) == (ErrorCode.STEP_LOCKED, STEP_FIELD)
    assert "until step 2 is completed or skipped" in error.value.problems[0].message


def test_completing_a_step_replaces_its_data_and_touches_no_other_step() -> None:
    # given step 1 completed with data and secrets, step 2 failed
    before = progress(COMPLETED, FAILED)
    # when step 1 is completed again, then step 2
    again = rules.complete_step(before, 1, data={"new": 1}, encrypted_secrets=b"new", now=NOW)
    after = rules.complete_step(again, 2, data={"website": "x"}, encrypted_secrets=None, now=NOW)
    # then step 1 holds only the new data, step 2 is COMPLETED with its errors cleared
    assert (after.step(1).data, after.step(1).encrypted_secrets) == ({"new": 1}, b"new")
    assert after.step(2).status is COMPLETED
    assert after.step(2).validation_errors == ()
    assert after.step(2).completed_at == after.step(2).updated_at == after.updated_at == NOW
    # and the other steps, and the rule's input, are as they were
    assert after.steps[2:] == before.steps[2:]
    assert before.step(2).status is FAILED
    assert after.completed_at is None


def test_a_failed_attempt_marks_an_open_step_failed_but_never_undoes_a_done_one() -> None:
    # given step 1 completed and step 2 pending
    before = progress(COMPLETED)
    # when attempts at both fail validation
    failed = rules.record_failed_attempt(before, 2, ("website is required",), NOW)
    kept = rules.record_failed_attempt(failed, 1, ("gemini is invalid",), NOW)
    # then step 2 is FAILED with the reasons, and step 1 keeps its status and data
    assert failed.step(2).status is FAILED
    assert failed.step(2).validation_errors == ("website is required",)
    assert failed.updated_at == NOW
    assert kept is failed
    skipped = progress(COMPLETED, SKIPPED)
    assert rules.record_failed_attempt(skipped, 2, ("x",), NOW) is skipped


def test_only_optional_unlocked_steps_can_be_skipped_and_skipping_keeps_no_data() -> None:
    # given steps 1-3 completed and 4 completed with data
    before = progress(COMPLETED, COMPLETED, COMPLETED, COMPLETED)
    # when step 4 is skipped
    after = rules.skip_step(before, 4, NOW)
    # then it is SKIPPED and holds nothing
    assert after.step(4).status is SKIPPED
    assert (after.step(4).data, after.step(4).completed_at) == (None, None)
    assert rules.current_step(after) == 5
    # and a required step, or a locked optional one, cannot be skipped
    with pytest.raises(RuleViolationError) as required:
        rules.skip_step(before, 2, NOW)
    assert violation(required) == (ErrorCode.STEP_NOT_SKIPPABLE, STEP_FIELD)
    with pytest.raises(RuleViolationError) as locked:
        rules.skip_step(progress(COMPLETED), 5, NOW)
    assert violation(locked) == (ErrorCode.STEP_LOCKED, STEP_FIELD)


def test_onboarding_cannot_finish_before_its_prerequisites_and_says_which() -> None:
    # given step 3 still pending, or required step 3 stored as skipped (step 6 then unlocked)
    pending_three = progress(COMPLETED, COMPLETED, PENDING, SKIPPED, SKIPPED)
    skipped_three = progress(COMPLETED, COMPLETED, SKIPPED, SKIPPED, SKIPPED)
    # when onboarding is finished, or step 6 completed
    with pytest.raises(RuleViolationError) as finishing:
        rules.complete_onboarding(pending_three, NOW)
    with pytest.raises(RuleViolationError) as completing_six:
        rules.check_step_can_be_completed(skipped_three, 6)
    # then both are refused, naming what is still to do
    for error in (finishing, completing_six):
        [problem] = error.value.problems
        assert problem.code is ErrorCode.REQUIRED_STEPS_INCOMPLETE
        assert problem.message.endswith("still to do: 3 (AI Research).")


def test_finishing_completes_the_last_step_once() -> None:
    # when onboarding is finished
    finished = rules.complete_onboarding(ALL_DONE, NOW)
    # then step 6 is COMPLETED, and the progress complete at 100 %
    assert finished.step(6).status is COMPLETED
    assert finished.completed_at == NOW
    assert rules.is_complete(finished)
    assert rules.completion_percentage(finished) == 100.0
    assert rules.current_step(finished) == 6
    # and finishing again changes nothing
    assert rules.complete_onboarding(finished, NOW + timedelta(hours=1)) is finished
    assert not rules.is_complete(ALL_DONE)


def test_a_reset_sets_every_step_back_to_pending_with_nothing_of_the_old_data() -> None:
    # given a finished onboarding
    finished = rules.complete_onboarding(ALL_DONE, NOW)
    # when it is reset
    later = NOW + timedelta(days=1)
    fresh = rules.reset(finished, later)
    # then it is as new, started now, for the same user and version
    assert [step.status for step in fresh.steps] == [PENDING] * 6
    kept = {(s.data, s.encrypted_secrets, s.validation_errors, s.completed_at) for s in fresh.steps}
    assert kept == {(None, None, (), None)}
    assert (fresh.started_at, fresh.updated_at, fresh.completed_at) == (later, later, None)
    assert (fresh.user_id, fresh.version) == (finished.user_id, finished.version)
    assert rules.current_step(fresh) == 1
    assert rules.completion_percentage(fresh) == 0.0
