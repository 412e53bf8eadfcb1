"""`OnboardingProgress` and `OnboardingStep`: the viewer's onboarding as the API shows it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from db.records import ProgressRecord
from resolvers import rules
from resolvers.global_ids import progress_global_id, step_global_id
from resolvers.step_secrets import MASK, SHORT_SECRET
from resolvers.steps import STEPS
from schema.enums import StepKey, StepStatus
from schema.field_cost import list_size
from schema.node import NODE_ID_DESCRIPTION, Node

# What `OnboardingStep.data` shows of a secret, as `resolvers.step_secrets` masks it.
STEP_DATA_DESCRIPTION = (
    "The step's saved data. Secrets (any key named like a password, secret, token or "
    f"API key) are masked: `{MASK}` and their last 4 characters, or `{MASK}` alone when "
    f"they have {SHORT_SECRET} characters or fewer."
)


@strawberry.type(description="One of the six onboarding steps, for the viewer.")
class OnboardingStep(Node):
    id: strawberry.ID = strawberry.field(
        description=f"{NODE_ID_DESCRIPTION} One per step of the viewer, stable across resets."
    )
    number: int = strawberry.field(description="Position in the flow, 1 to 6.")
    key: StepKey = strawberry.field(description="Stable name of the step.")
    title: str = strawberry.field(description="Title shown to the user.")
    description: str = strawberry.field(description="What the step is for.")
    status: StepStatus = strawberry.field(description="Stored status of the step.")
    required: bool = strawberry.field(description="Whether onboarding needs it (else skippable).")
    locked: bool = strawberry.field(
        description="True until every earlier step is completed or skipped."
    )
    data: JSON | None = strawberry.field(description=STEP_DATA_DESCRIPTION)
    completed_at: datetime | None = strawberry.field(description="When it was last completed.")
    validation_errors: list[str] = strawberry.field(
        description="Why the last attempt to complete it was refused; empty otherwise."
    )


@strawberry.type(description="The viewer's progress through onboarding.")
class OnboardingProgress(Node):
    id: strawberry.ID = strawberry.field(
        description=f"{NODE_ID_DESCRIPTION} One per user, stable across resets."
    )
    current_step: int = strawberry.field(
        description="The lowest step neither completed nor skipped; 6 once onboarding is complete."
    )
    completion_percentage: float = strawberry.field(
        description="(completed + skipped steps) / 6 * 100, rounded to one decimal."
    )
    is_completed: bool = strawberry.field(description="Whether onboarding is finished.")
    started_at: datetime = strawberry.field(description="When onboarding started (or was reset).")
    updated_at: datetime = strawberry.field(description="When anything last changed.")
    completed_at: datetime | None = strawberry.field(description="When onboarding was finished.")
    can_complete_onboarding: bool = strawberry.field(
        description="Whether `completeOnboarding` would succeed now."
    )
    steps: list[OnboardingStep] = strawberry.field(
        description="All six steps, in order.", metadata=list_size(len(STEPS))
    )

    @strawberry.field(description="One step by number; null when there is no such step.")
    def step(
        self, number: Annotated[int, strawberry.argument(description="Step number, 1 to 6.")]
    ) -> OnboardingStep | None:
        return step_by_number(self.steps, number)


def step_by_number(steps: list[OnboardingStep], number: int) -> OnboardingStep | None:
    return steps[number - 1] if 1 <= number <= len(steps) else None


# Each step's definition as the OnboardingStep fields of the same names (number, key,
# title, description, required), made once for every step the API shows.
_DEFINED_FIELDS = tuple(asdict(definition) for definition in STEPS)


def progress_from_record(progress: ProgressRecord) -> OnboardingProgress:
    return OnboardingProgress(
        id=strawberry.ID(progress_global_id(progress.user_id)),
        current_step=rules.current_step(progress),
        completion_percentage=rules.completion_percentage(progress),
        is_completed=rules.is_complete(progress),
        started_at=progress.started_at,
        updated_at=progress.updated_at,
        completed_at=progress.completed_at,
        can_complete_onboarding=rules.can_complete_onboarding(progress),
        steps=[
            OnboardingStep(
                id=strawberry.ID(step_global_id(progress.user_id, definition.number)),
                **defined,
                status=stored.status,
                locked=locked,
                data=stored.data,
                completed_at=stored.completed_at,
                validation_errors=list(stored.validation_errors),
            )
            for definition, defined, stored, locked in zip(
                STEPS, _DEFINED_FIELDS, progress.steps, rules.locked_steps(progress), strict=True
            )
        ],
    )
