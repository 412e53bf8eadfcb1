"""Checks on `discoverCompetitors` input: every bad field reported, each at its path."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from discovery import DiscoveryRequest, InvalidURLError, NormalisedURL, normalise_url
from discovery.models import MAX_RESULTS, MIN_RESULTS
from resolvers.errors import ErrorCode, Problem
from resolvers.json_input import has_lone_surrogate, json_problems

MAX_INDUSTRY_CONTEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class DiscoveryForm:
    """The mutation's input as the client sent it (the ignored `sessionId` aside)."""

    user_url: str
    industry_context: str | None
    num_results: int
    website_analysis_data: object
    refresh: bool = False
    wait: bool = True


def _problem(field: str, message: str) -> Problem:
    return Problem(ErrorCode.VALIDATION_FAILED, message, ("input", field))


def check_discovery_form(form: DiscoveryForm) -> tuple[DiscoveryRequest | None, list[Problem]]:
    """The provider request the form describes, or every problem with it."""
    problems: list[Problem] = []
    site: NormalisedURL | None = None
    try:
        site = normalise_url(form.user_url)
    except InvalidURLError as error:
        problems.append(_problem("userUrl", f"userUrl: {error}"))

    if not MIN_RESULTS <= form.num_results <= MAX_RESULTS:
        problems.append(
            _problem("numResults", f"numResults must be between {MIN_RESULTS} and {MAX_RESULTS}.")
        )

    industry = (form.industry_context or "").strip() or None
    if industry is not None and len(industry) > MAX_INDUSTRY_CONTEXT:
        problems.append(
            _problem(
                "industryContext",
                f"industryContext must be at most {MAX_INDUSTRY_CONTEXT} characters.",
            )
        )
    elif industry is not None and (_CONTROL.search(industry) or has_lone_surrogate(industry)):
        # PostgreSQL cannot store NUL in text, nor anyone a lone surrogate.
        problems.append(
            _problem("industryContext", "industryContext must be one line of plain text.")
        )

    analysis: Mapping[str, Any] | None = None
    data = form.website_analysis_data
    if data is not None:
        if not isinstance(data, Mapping):
            problems.append(
                _problem("websiteAnalysisData", "websiteAnalysisData must be an object.")
            )
        elif too_much := json_problems(
            data, "websiteAnalysisData", ("input", "websiteAnalysisData")
        ):
            problems.extend(too_much)
        else:
            analysis = data

    if problems or site is None:
        return None, problems
    request = DiscoveryRequest(
        site=site,
        industry_context=industry,
        num_results=form.num_results,
        website_analysis=analysis,
    )
    return request, []


def question_hash(user_id: str, request: DiscoveryRequest) -> str:
    """What makes two discovery requests the same question, for single flight: a sha256 hex.

    The user, the normalised URL, the industry, the number of results and the
    analysis data (keys in any order).
    """
    question = [
        user_id,
        request.site.url,
        request.industry_context,
        request.num_results,
        request.website_analysis,
    ]
    canonical = json.dumps(question, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate in the analysis data must not make hashing fail.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
