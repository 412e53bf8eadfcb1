"""GraphQL documents and step data the onboarding tests share."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient

PROGRESS_FIELDS = """
    currentStep completionPercentage isCompleted canCompleteOnboarding
    startedAt updatedAt completedAt
    steps { number key status required locked data completedAt validationErrors }
"""

PROGRESS = f"query {{ onboardingProgress {{ {PROGRESS_FIELDS} }} }}"


def _mutation(operation: str, field: str, input_type: str, *, step_fields: str = "") -> str:
    """`field(input:)` answering the deprecated sessionId, the step (if any), the progress
    and the userErrors: the payload every onboarding mutation has."""
    step = f"step {{ {step_fields} }}" if step_fields else ""
    return f"""
mutation {operation}($input: {input_type}) {{
  {field}(input: $input) {{
    sessionId {step}
    progress {{ {PROGRESS_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""


COMPLETE_STEP = _mutation(
    "Complete",
    "completeOnboardingStep",
    "CompleteOnboardingStepInput!",
    step_fields="number status data completedAt",
)
SKIP_STEP = _mutation(
    "Skip", "skipOnboardingStep", "SkipOnboardingStepInput!", step_fields="number status"
)
COMPLETE_ONBOARDING = _mutation("Finish", "completeOnboarding", "CompleteOnboardingInput")
RESET_ONBOARDING = _mutation("Reset", "resetOnboarding", "ResetOnboardingInput")

GEMINI_KEY = "AIzaSyD-test-gemini-key-0123456789abc"
EXA_KEY = "3f1c2b8e-9d4a-4c6b-8f2e-1a2b3c4d5e6f"
COPILOTKIT_KEY = "ck_pub_0123456789abcdef0123456789abcdef"

STEP_DATA: dict[int, dict[str, Any] | None] = {
    1: {"apiKeys": {"gemini": GEMINI_KEY, "exa": EXA_KEY, "copilotkit": COPILOTKIT_KEY}},
    2: {"website": "https://acme-shop.com", "target_audience": "online shoppers"},
    3: {"competitors": [{"url": "https://etsy.com"}], "researchSummary": {"total": 1}},
    4: {"tone": "friendly"},
    5: {"wordpress": False},
}


async def complete_step(graphql: GraphQLClient, step: int, **fields: Any) -> dict[str, Any]:
    """`completeOnboardingStep`'s payload for `step` with `fields` (`data`, `discoveryId`);
    with no fields, the step's `STEP_DATA`."""
    fields = fields or {"data": STEP_DATA.get(step)}
    result = await graphql.execute(COMPLETE_STEP, {"input": {"step": step, **fields}})
    return dict(result["completeOnboardingStep"])


async def skip_step(graphql: GraphQLClient, step: int) -> dict[str, Any]:
    """`skipOnboardingStep`'s payload for `step`."""
    result = await graphql.execute(SKIP_STEP, {"input": {"step": step}})
    return dict(result["skipOnboardingStep"])


async def progress_of(graphql: GraphQLClient) -> dict[str, Any]:
    """The viewer's `onboardingProgress`."""
    return dict((await graphql.execute(PROGRESS))["onboardingProgress"])
