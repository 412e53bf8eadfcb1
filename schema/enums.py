"""The GraphQL enums, made from the rules' own Python enums, each value described."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

from db.records import DiscoveryStatus, StepStatus
from resolvers.errors import ErrorCode
from resolvers.steps import STEPS, StepKey

Value = TypeVar("Value", bound=Enum)


def _describe(
    python_enum: type[Value], *, name: str, description: str, values: Mapping[Value, str]
) -> None:
    """Expose `python_enum` as a GraphQL enum; refuse to leave any value undescribed."""
    missing = set(python_enum) - set(values)
    if missing:
        raise TypeError(f"{name}: no description for {sorted(m.name for m in missing)}")
    strawberry.enum(python_enum, name=name, description=description)
    definition = python_enum.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[python_enum[value.name]]


# What each value means, for the descriptions of the values in the schema.
_STEP_STATUS_VALUES = {
    StepStatus.PENDING: "Not started.",
    StepStatus.IN_PROGRESS: "Started but not finished.",
    StepStatus.COMPLETED: "Done; its data is stored.",
    StepStatus.SKIPPED: "Left out on purpose (optional steps only).",
    StepStatus.FAILED: "The last attempt was refused; see `validationErrors`.",
}
_STEP_KEY_VALUES = {step.key: f"Step {step.number}: {step.title}." for step in STEPS}
_ERROR_CODE_VALUES = {
    ErrorCode.VALIDATION_FAILED: "A value is missing or malformed; see `field`.",
    ErrorCode.STEP_NOT_FOUND: "There is no step with that number (steps are 1 to 6).",
    ErrorCode.STEP_LOCKED: "An earlier step is neither completed nor skipped.",
    ErrorCode.STEP_NOT_SKIPPABLE: "Only optional steps can be skipped.",
    ErrorCode.REQUIRED_STEPS_INCOMPLETE: "Steps before the last are not all done.",
    ErrorCode.NOT_FOUND: "No object with that id belongs to the viewer.",
    ErrorCode.CONFLICT: "A concurrent change won; retry the request.",
    ErrorCode.RATE_LIMITED: "Too many requests; retry after the time in the message.",
    ErrorCode.PROVIDER_UNAVAILABLE: "The competitor search provider failed or timed out.",
    ErrorCode.PROVIDER_MISCONFIGURED: "The provider rejected the service's credentials.",
}
_DISCOVERY_STATUS_VALUES = {
    DiscoveryStatus.PENDING: (
        "Accepted and waiting for a provider slot (or for another instance to take it over)."
    ),
    DiscoveryStatus.RUNNING: "The provider is being asked.",
    DiscoveryStatus.COMPLETED: "Done: `competitors` and the rest hold the result.",
    DiscoveryStatus.FAILED: "The provider could not answer; `failure` says why.",
}

_describe(
    StepStatus,
    name="OnboardingStepStatus",
    description="Where a step stands. Stored per step; never inferred from its data.",
    values=_STEP_STATUS_VALUES,
)
_describe(
    StepKey,
    name="OnboardingStepKey",
    description="A stable name for each onboarding step.",
    values=_STEP_KEY_VALUES,
)
_describe(
    ErrorCode,
    name="UserErrorCode",
    description="Why a mutation refused its input. Stable: clients may switch on it.",
    values=_ERROR_CODE_VALUES,
)
_describe(
    DiscoveryStatus,
    name="DiscoveryStatus",
    description=(
        "Where a competitor discovery's job stands. PENDING and RUNNING change by themselves;"
        " COMPLETED and FAILED are final."
    ),
    values=_DISCOVERY_STATUS_VALUES,
)

__all__ = ["DiscoveryStatus", "ErrorCode", "StepKey", "StepStatus"]
