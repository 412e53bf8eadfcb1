"""GraphQL documents and step data the onboarding tests share."""

from __future__ import annotations

from typing import Any

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
