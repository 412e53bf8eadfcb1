"""`completeOnboardingStep`: save a step's data and mark it completed."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers import onboarding
from schema.context import Info
from schema.deprecation import session_id_input
from schema.mutations.payloads import OnboardingStepPayload


@strawberry.input(description="Complete one step with its data.")
class CompleteOnboardingStepInput:
    session_id: str | None = session_id_input()
    step: int = strawberry.field(description="The step to complete, 1 to 6.")
    data: JSON | None = strawberry.field(
        default=None,
        description=(
            "The step's data, validated per step: step 1 `apiKeys.gemini|exa|copilotkit`,"
            " step 2 `website`, step 3 `competitors` or `researchSummary`."
            " Re-completing a step replaces its data."
        ),
    )


async def complete_onboarding_step(
    info: Info,
    input: Annotated[
        CompleteOnboardingStepInput, strawberry.argument(description="The step and its data.")
    ],
) -> OnboardingStepPayload:
    viewer = info.context.require_viewer()
    outcome = await onboarding.complete_step(
        info.context.services, viewer.id, input.step, input.data
    )
    return OnboardingStepPayload.from_outcome(outcome, input.step)
