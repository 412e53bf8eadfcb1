"""`skipOnboardingStep`: leave out an optional step."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import onboarding
from schema.context import Info
from schema.deprecation import session_id_input
from schema.mutations.payloads import OnboardingStepPayload


@strawberry.input(description="Skip one optional step.")
class SkipOnboardingStepInput:
    session_id: str | None = session_id_input()
    step: int = strawberry.field(description="The step to skip; only steps 4 and 5 are optional.")


async def skip_onboarding_step(
    info: Info,
    input: Annotated[SkipOnboardingStepInput, strawberry.argument(description="The step to skip.")],
) -> OnboardingStepPayload:
    outcome = await info.context.as_viewer(onboarding.skip_step, input.step)
    return OnboardingStepPayload.from_outcome(outcome, input.step)
