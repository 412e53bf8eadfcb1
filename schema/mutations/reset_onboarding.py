"""`resetOnboarding`: start over."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import onboarding
from schema.context import Info
from schema.deprecation import session_id_input
from schema.mutations.payloads import OnboardingProgressPayload


@strawberry.input(description="Start onboarding over.")
class ResetOnboardingInput:
    session_id: str | None = session_id_input()
    hard: bool = strawberry.field(
        default=False,
        description="Also delete the viewer's stored competitor discoveries.",
    )


async def reset_onboarding(
    info: Info,
    input: Annotated[
        ResetOnboardingInput | None,
        strawberry.argument(description="Optional: `hard: true` also deletes discoveries."),
    ] = None,
) -> OnboardingProgressPayload:
    hard = input.hard if input is not None else False
    outcome = await info.context.as_viewer(onboarding.reset_onboarding, hard=hard)
    return OnboardingProgressPayload.from_outcome(outcome)
