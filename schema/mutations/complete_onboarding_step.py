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
            " step 2 `website`, step 3 `competitors` or `researchSummary` (or give"
            " `discoveryId` instead). Re-completing a step replaces its data."
        ),
    )
    discovery_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Step 3 only: the id of one of the viewer's competitor discoveries, whose"
            " competitors and research summary become the step's data (with `discoveryId`)."
        ),
    )


async def complete_onboarding_step(
    info: Info,
    input: Annotated[
        CompleteOnboardingStepInput, strawberry.argument(description="The step and its data.")
    ],
) -> OnboardingStepPayload:
    discovery_id = str(input.discovery_id) if input.discovery_id is not None else None
    outcome = await info.context.as_viewer(
        onboarding.complete_step, input.step, input.data, discovery_id
    )
    return OnboardingStepPayload.from_outcome(outcome, input.step)
