"""Per-step validation of the `data` a client sends when completing a step.

Every problem is reported, each with the path of the offending field, so a form
can mark all of its bad inputs at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from discovery import InvalidURLError, normalise_url
from resolvers.errors import ErrorCode, Problem
from resolvers.json_input import json_problems
from resolvers.step_secrets import split_secrets

DATA_PATH = ("input", "data")

_GEMINI_KEY = re.compile(r"AIza[0-9A-Za-z_\-]{16,}")
_COPILOTKIT_KEY = re.compile(r"ck_pub_[0-9A-Za-z_\-]{4,}")


@dataclass(frozen=True, slots=True)
class CheckedStepData:
    """Step data split into what may be shown back (secrets masked) and the secrets alone."""

    public: Any | None
    secrets: dict[str, Any] | None = None


@dataclass
class _Checker:
    problems: list[Problem] = field(default_factory=list)

    def fail(self, path: tuple[str, ...], message: str) -> None:
        self.problems.append(Problem(ErrorCode.VALIDATION_FAILED, message, DATA_PATH + path))


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def is_web_url(value: object) -> bool:
    """An absolute http(s) URL that discovery would accept as a site."""
    if not isinstance(value, str):
        return False
    try:
        normalise_url(value, require_scheme=True)
    except InvalidURLError:
        return False
    return True


_API_KEY_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "gemini": (
        lambda value: _GEMINI_KEY.fullmatch(value) is not None,
        "A Gemini API key starts with 'AIza'.",
    ),
    "exa": (_is_uuid, "An Exa API key is a UUID (8-4-4-4-12 hex digits)."),
    "copilotkit": (
        lambda value: _COPILOTKIT_KEY.fullmatch(value) is not None,
        "A CopilotKit public key starts with 'ck_pub_'.",
    ),
}


def _check_api_keys(data: Mapping[str, Any], checker: _Checker) -> CheckedStepData:
    keys = data.get("apiKeys")
    if not isinstance(keys, Mapping):
        checker.fail(("apiKeys",), "apiKeys must be an object with gemini, exa and copilotkit.")
        return CheckedStepData(public=None)
    for name, (is_valid, message) in _API_KEY_RULES.items():
        value = keys.get(name)
        if not isinstance(value, str) or not value.strip():
            checker.fail(("apiKeys", name), f"apiKeys.{name} is required.")
        elif not is_valid(value.strip()):
            checker.fail(("apiKeys", name), message)
    for name, value in keys.items():
        if name not in _API_KEY_RULES and not isinstance(value, str):
            checker.fail(("apiKeys", name), f"apiKeys.{name} must be a string.")
    # `apiKeys` names a secret, so every key in it is masked and sealed (see
    # step_secrets); only the strings, trimmed, are kept: anything else failed above.
    public = dict(data)
    public["apiKeys"] = {
        name: value.strip() for name, value in keys.items() if isinstance(value, str)
    }
    return CheckedStepData(public=public)


def _check_website(data: Mapping[str, Any], checker: _Checker) -> CheckedStepData:
    if not is_web_url(data.get("website")):
        checker.fail(
            ("website",), "website must be an http(s) URL with a host, e.g. https://example.com."
        )
    return CheckedStepData(public=dict(data))


def _check_research(data: Mapping[str, Any], checker: _Checker) -> CheckedStepData:
    competitors = data.get("competitors")
    summary = data.get("researchSummary")
    if competitors is None and summary is None:
        checker.fail(
            ("competitors",),
            "Step 3 needs competitors, a researchSummary or a discoveryId.",
        )
    if competitors is not None and not isinstance(competitors, list):
        checker.fail(("competitors",), "competitors must be a list.")
    if summary is not None and not isinstance(summary, Mapping):
        checker.fail(("researchSummary",), "researchSummary must be an object.")
    return CheckedStepData(public=dict(data))


def _check_free_form(data: Mapping[str, Any], checker: _Checker) -> CheckedStepData:
    return CheckedStepData(public=dict(data))


_CHECKS: dict[int, Callable[[Mapping[str, Any], _Checker], CheckedStepData]] = {
    1: _check_api_keys,
    2: _check_website,
    3: _check_research,
    4: _check_free_form,
    5: _check_free_form,
    6: _check_free_form,
}
_DATA_REQUIRED = frozenset({1, 2, 3})


def check_step_data(number: int, data: object) -> tuple[CheckedStepData, list[Problem]]:
    """Validate `data` for step `number`; the problems list is empty when it is fine."""
    checker = _Checker()
    if data is None:
        if number in _DATA_REQUIRED:
            needs = "data or a discoveryId" if number == 3 else "data"
            checker.fail((), f"Step {number} needs {needs}.")
        return CheckedStepData(public=None), checker.problems
    if not isinstance(data, Mapping):
        checker.fail((), "data must be a JSON object.")
        return CheckedStepData(public=None), checker.problems
    if too_much := json_problems(data, "data", DATA_PATH):
        return CheckedStepData(public=None), too_much
    checked = _CHECKS[number](data, checker)
    if not isinstance(checked.public, Mapping):
        return checked, checker.problems
    public, secrets = split_secrets(checked.public)
    return CheckedStepData(public=public, secrets=secrets), checker.problems
