"""GraphQL documents and step data the onboarding tests share."""

from __future__ import annotations

from typing import Any

PROGRESS_FIELDS = """
    currentStep completionPercentage isCompleted canCompleteOnboarding
    startedAt updatedAt completedAt
    steps { number key status required locked data completedAt validationErrors }
"""

PROGRESS = f"query {{ onboardingProgress {{ {PROGRESS_FIELDS} }} }}"

COMPLETE_STEP = f"""
mutation Complete($input: CompleteOnboardingStepInput!) {{
  completeOnboardingStep(input: $input) {{
    sessionId
    step {{ number status data completedAt }}
    progress {{ {PROGRESS_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

SKIP_STEP = f"""
mutation Skip($input: SkipOnboardingStepInput!) {{
  skipOnboardingStep(input: $input) {{
    sessionId
    step {{ number status }}
    progress {{ {PROGRESS_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

COMPLETE_ONBOARDING = f"""
mutation Finish($input: CompleteOnboardingInput) {{
  completeOnboarding(input: $input) {{
    sessionId
    progress {{ {PROGRESS_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

RESET_ONBOARDING = f"""
mutation Reset($input: ResetOnboardingInput) {{
  resetOnboarding(input: $input) {{
    sessionId
    progress {{ {PROGRESS_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

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
