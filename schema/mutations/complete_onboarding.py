"""`completeOnboarding`: finish, once every earlier step is done."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import onboarding
from schema.context import Info
from schema.deprecation import session_id_input, session_id_only_input_argument
from schema.mutations.payloads import OnboardingProgressPayload


@strawberry.input(description="Finish onboarding.")
class CompleteOnboardingInput:
    session_id: str | None = session_id_input()


async def complete_onboarding(
    info: Info,
    input: Annotated[CompleteOnboardingInput | None, session_id_only_input_argument] = None,
) -> OnboardingProgressPayload:
    outcome = await info.context.as_viewer(onboarding.complete_onboarding)
    return OnboardingProgressPayload.from_outcome(outcome)
