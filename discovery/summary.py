"""A computed research summary of a discovery result.

Thresholds (documented here because the frontend shows their outcome):

* a competitor is a *high threat* when its relevance score is at least
  ``HIGH_THREAT_THRESHOLD`` (0.75);
* the landscape is "highly competitive" with at least 5 high-threat competitors
  or at least 20 competitors in all, "moderately competitive" with at least 2
  high-threat or at least 8 in all, "emerging" with fewer, and
  "no competitors found" with none.
"""

from __future__ import annotations

from dataclasses import dataclass

from discovery.models import Competitor, DiscoveryResult

HIGH_THREAT_THRESHOLD = 0.75
_TOP_N = 3


@dataclass(frozen=True, slots=True)
class ResearchSummary:
    total_competitors: int
    high_threat_count: int
    competitive_landscape: str
    key_findings: tuple[str, ...]


def _landscape(total: int, high: int) -> str:
    if total == 0:
        return "no competitors found"
    if high >= 5 or total >= 20:
        return "highly competitive"
    if high >= 2 or total >= 8:
        return "moderately competitive"
    return "emerging"


def _score(c: Competitor) -> float:
    return c.relevance_score if c.relevance_score is not None else -1.0


def summarise_research(result: DiscoveryResult) -> ResearchSummary:
    competitors = result.competitors
    total = len(competitors)
    high = sum(1 for c in competitors if _score(c) >= HIGH_THREAT_THRESHOLD)
    findings: list[str] = []

    scored = sorted(
        (c for c in competitors if c.relevance_score is not None), key=_score, reverse=True
    )
    if scored:
        top = ", ".join(f"{c.domain} ({_score(c):.2f})" for c in scored[:_TOP_N])
        findings.append(f"Closest competitors by relevance: {top}.")
    if total:
        findings.append(
            f"{high} of {total} competitors score at least {HIGH_THREAT_THRESHOLD:.2f} "
            "and count as high threat."
        )
        with_summary = sum(1 for c in competitors if c.summary)
        findings.append(f"{with_summary} of {total} competitors come with a summary.")

    present = result.social_media_accounts.present()
    if present:
        findings.append(
            f"The site has public profiles on {len(present)} of 6 social networks "
            f"({', '.join(present)})."
        )
    else:
        findings.append("No public social media profiles were found for the site.")

    if result.shortfall:
        found = result.requested_results - result.shortfall
        findings.append(
            f"Only {found} of the {result.requested_results} requested competitors "
            f"could be found by the {result.provider} provider."
        )
    return ResearchSummary(
        total_competitors=total,
        high_threat_count=high,
        competitive_landscape=_landscape(total, high),
        key_findings=tuple(findings),
    )
