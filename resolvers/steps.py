"""The six onboarding steps, as the product defines them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class StepDefinition:
    number: int
    key: StepKey
    title: str
    description: str
    required: bool


class StepKey(StrEnum):
    API_KEYS = "API_KEYS"
    WEBSITE_ANALYSIS = "WEBSITE_ANALYSIS"
    COMPETITOR_RESEARCH = "COMPETITOR_RESEARCH"
    PERSONALIZATION = "PERSONALIZATION"
    INTEGRATIONS = "INTEGRATIONS"
    FINISH = "FINISH"


STEPS: tuple[StepDefinition, ...] = (
    StepDefinition(
        1,
        StepKey.API_KEYS,
        "AI LLM Providers",
        "Connect the AI providers the platform writes with (Gemini, Exa, CopilotKit).",
        True,
    ),
    StepDefinition(
        2,
        StepKey.WEBSITE_ANALYSIS,
        "Website Analysis",
        "Analyse your website to learn your audience, tone and industry.",
        True,
    ),
    StepDefinition(
        3,
        StepKey.COMPETITOR_RESEARCH,
        "AI Research",
        "Research the competitors and social presence around your website.",
        True,
    ),
    StepDefinition(
        4,
        StepKey.PERSONALIZATION,
        "Personalization",
        "Tune the writing style, tone and content preferences.",
        False,
    ),
    StepDefinition(
        5,
        StepKey.INTEGRATIONS,
        "Integrations",
        "Connect publishing and analytics integrations.",
        False,
    ),
    StepDefinition(
        6,
        StepKey.FINISH,
        "Complete Setup",
        "Review everything and finish onboarding.",
        True,
    ),
)

FINAL_STEP = STEPS[-1].number
STEP_NUMBERS = tuple(step.number for step in STEPS)


def step_definition(number: int) -> StepDefinition | None:
    if 1 <= number <= len(STEPS):
        return STEPS[number - 1]
    return None
