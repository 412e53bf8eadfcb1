"""The payloads the onboarding mutations answer with."""

from __future__ import annotations

import strawberry

from resolvers.global_ids import discovery_global_id
from resolvers.onboarding import Outcome
from schema.deprecation import session_id_output
from schema.onboarding import (
    OnboardingProgress,
    OnboardingStep,
    progress_from_record,
    step_by_number,
)
from schema.user_error import UserError, user_errors


@strawberry.type(
    description=(
        "The result of completing or skipping one step: the step and the progress as"
        " stored now, with their ids, so normalized caches update them in place."
    )
)
class OnboardingStepPayload:
    session_id: str | None = session_id_output()
    step: OnboardingStep | None = strawberry.field(
        description="The step as stored now; null when `userErrors` is not empty."
    )
    progress: OnboardingProgress = strawberry.field(
        description="The viewer's current progress, whether or not the change was made."
    )
    user_errors: list[UserError] = strawberry.field(
        description="What was wrong with the input; empty on success."
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome, step_number: int) -> OnboardingStepPayload:
        progress = progress_from_record(outcome.progress)
        return cls(
            session_id=outcome.progress.user_id,
            step=step_by_number(progress.steps, step_number) if outcome.succeeded else None,
            progress=progress,
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type(
    description=(
        "The result of finishing or resetting onboarding: the progress (with its steps) as"
        " stored now, and what was deleted, so normalized caches update or evict them."
    )
)
class OnboardingProgressPayload:
    session_id: str | None = session_id_output()
    progress: OnboardingProgress = strawberry.field(
        description="The viewer's current progress, whether or not the change was made."
    )
    deleted_discovery_ids: list[strawberry.ID] = strawberry.field(
        description=(
            "The ids of the competitor discoveries `resetOnboarding(hard: true)` deleted, for"
            " clients to evict (Relay `@deleteRecord`); empty for every other change."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description="What was wrong with the input; empty on success."
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome) -> OnboardingProgressPayload:
        return cls(
            session_id=outcome.progress.user_id,
            progress=progress_from_record(outcome.progress),
            deleted_discovery_ids=[
                strawberry.ID(discovery_global_id(key)) for key in outcome.deleted_discovery_ids
            ],
            user_errors=user_errors(outcome.problems),
        )
