"""A provider's result as the JSON a discovery row stores, and back.

The stored document uses the discovery package's own field names; the
camelCase shape clients see is made in `schema/` and, for step 3's data, by
`research_step_data` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.records import DiscoveryRecord, DiscoveryStatus
from discovery import (
    Citation,
    Competitor,
    DiscoveryResult,
    ResearchSummary,
    SocialMediaAccounts,
    fields_of,
)
from resolvers.errors import ErrorCode, Problem
from resolvers.global_ids import discovery_global_id

# What a discovery shows until its job has COMPLETED: nothing found yet.
_NOTHING_YET = ResearchSummary(
    total_competitors=0,
    high_threat_count=0,
    competitive_landscape="no competitors found",
    key_findings=(),
)


@dataclass(frozen=True, slots=True)
class Discovery:
    """A stored discovery with its result unpacked; `cached` says how this request got it."""

    record: DiscoveryRecord
    competitors: tuple[Competitor, ...]
    social_media_accounts: SocialMediaAccounts
    social_media_citations: tuple[Citation, ...]
    research_summary: ResearchSummary
    shortfall: int
    cached: bool = False

    @property
    def global_id(self) -> str:
        return discovery_global_id(self.record.id)

    @property
    def status(self) -> DiscoveryStatus:
        return self.record.status

    @property
    def failure(self) -> Problem | None:
        """Why the job FAILED, as the user error the synchronous path answered; else None."""
        return failure_of(self.record)


def failure_of(record: DiscoveryRecord) -> Problem | None:
    if record.status is not DiscoveryStatus.FAILED:
        return None
    try:
        code = ErrorCode(record.failure_code or "")
    except ValueError:
        code = ErrorCode.PROVIDER_UNAVAILABLE
    return Problem(code, record.failure_message or "The discovery failed; please try again.")


def encode_result(result: DiscoveryResult, summary: ResearchSummary) -> dict[str, Any]:
    """Plain JSON (lists, not tuples): it is the stored result, and the finished job's too."""
    return {
        "competitors": [
            {**fields_of(competitor), "highlights": list(competitor.highlights)}
            for competitor in result.competitors
        ],
        "social_media_accounts": result.social_media_accounts.as_dict(),
        "social_media_citations": [
            fields_of(citation) for citation in result.social_media_citations
        ],
        "research_summary": {**fields_of(summary), "key_findings": list(summary.key_findings)},
        "shortfall": result.shortfall,
    }


def decode(record: DiscoveryRecord, *, cached: bool = False) -> Discovery:
    stored = record.result
    if stored is None:  # the job has not COMPLETED
        return Discovery(
            record=record,
            competitors=(),
            social_media_accounts=SocialMediaAccounts(),
            social_media_citations=(),
            research_summary=_NOTHING_YET,
            shortfall=0,
            cached=cached,
        )
    summary = stored["research_summary"]
    return Discovery(
        record=record,
        competitors=tuple(
            Competitor(**{**raw, "highlights": tuple(raw.get("highlights") or ())})
            for raw in stored["competitors"]
        ),
        social_media_accounts=SocialMediaAccounts(**stored["social_media_accounts"]),
        social_media_citations=tuple(Citation(**raw) for raw in stored["social_media_citations"]),
        research_summary=ResearchSummary(
            total_competitors=summary["total_competitors"],
            high_threat_count=summary["high_threat_count"],
            competitive_landscape=summary["competitive_landscape"],
            key_findings=tuple(summary["key_findings"]),
        ),
        shortfall=int(stored.get("shortfall", 0)),
        cached=cached,
    )


def research_step_data(discovery: Discovery) -> dict[str, Any]:
    """What step 3 stores for a discovery, in the camelCase its other data uses."""
    summary = discovery.research_summary
    return {
        "discoveryId": discovery.global_id,
        "competitors": [
            {
                "url": c.url,
                "domain": c.domain,
                "title": c.title,
                "summary": c.summary,
                "highlights": list(c.highlights),
                "publishedDate": c.published_date,
                "author": c.author,
                "favicon": c.favicon,
                "image": c.image,
                "relevanceScore": c.relevance_score,
            }
            for c in discovery.competitors
        ],
        "researchSummary": {
            "totalCompetitors": summary.total_competitors,
            "highThreatCount": summary.high_threat_count,
            "competitiveLandscape": summary.competitive_landscape,
            "keyFindings": list(summary.key_findings),
        },
    }
