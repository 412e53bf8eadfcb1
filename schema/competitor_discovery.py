"""`CompetitorDiscovery` and the types it is made of, as clients see them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar, dataclass_transform

import strawberry

import discovery
from discovery.models import MAX_RESULTS
from resolvers.discovery_codec import Discovery
from resolvers.global_ids import discovery_part_id
from schema.enums import DiscoveryStatus
from schema.field_cost import list_size
from schema.node import Node
from schema.user_error import UserError

VALUE_ID_DESCRIPTION = (
    "Stable cache key, made from the discovery's id{key}, so normalized caches (Apollo,"
    " urql Graphcache, Relay) store it with no configuration. Not a `Node` id: this is a"
    " value inside its discovery, with no identity of its own; refetch the discovery."
)

_Value = TypeVar("_Value")


def _value_id(key: str = "") -> Any:
    """The `id` field of a value: a cache key made from its discovery's id and `key`."""
    return strawberry.field(description=VALUE_ID_DESCRIPTION.format(key=key))


# Tells type checkers the decorated class is a dataclass-like type, as `strawberry.type` does.
@dataclass_transform(
    order_default=False, kw_only_default=True, field_specifiers=(strawberry.field, _value_id)
)
def _value_type(what: str, aside: str = "") -> Callable[[type[_Value]], type[_Value]]:
    """`strawberry.type` for a part of a discovery, described as a value inside it."""
    return strawberry.type(
        description=f"{what} A value inside its discovery{aside}, not an object of its own."
    )


@_value_type("A company that competes with the researched site.", " (it never changes)")
class Competitor:
    id: strawberry.ID = _value_id(" and the competitor's domain")
    url: str = strawberry.field(description="The competitor's page the provider found.")
    domain: str = strawberry.field(description="Its registrable domain, e.g. `etsy.com`.")
    title: str | None = strawberry.field(description="Page or company title, if known.")
    summary: str | None = strawberry.field(description="What the company offers, if known.")
    highlights: list[str] = strawberry.field(
        description="Short passages that show why it competes; may be empty."
    )
    published_date: str | None = strawberry.field(
        description=(
            "When the page was published: an ISO-8601 date, or a date-time in UTC; "
            "null when the provider's value is neither."
        )
    )
    author: str | None = strawberry.field(description="The page's author, if known.")
    favicon: str | None = strawberry.field(description="URL of the site's icon, if known.")
    image: str | None = strawberry.field(description="URL of the page's preview image, if known.")
    relevance_score: float | None = strawberry.field(
        description="How closely it matches the site, 0 to 1; null if the provider gave none."
    )

    @classmethod
    def from_model(cls, competitor: discovery.Competitor, discovery_id: str) -> Competitor:
        # The model's fields under their own names; the id makes it a value of its discovery.
        return cls(
            **discovery.fields_of(competitor) | {"highlights": list(competitor.highlights)},
            id=strawberry.ID(discovery_part_id("Competitor", discovery_id, competitor.domain)),
        )


@_value_type("The researched site's own social profiles: each an https URL, or null if none.")
class SocialMediaAccounts:
    id: strawberry.ID = _value_id()
    facebook: str | None = strawberry.field(description="Facebook page URL, or null.")
    twitter: str | None = strawberry.field(description="X (Twitter) profile URL, or null.")
    instagram: str | None = strawberry.field(description="Instagram profile URL, or null.")
    linkedin: str | None = strawberry.field(description="LinkedIn page URL, or null.")
    youtube: str | None = strawberry.field(description="YouTube channel URL, or null.")
    tiktok: str | None = strawberry.field(description="TikTok profile URL, or null.")

    @classmethod
    def from_model(
        cls, accounts: discovery.SocialMediaAccounts, discovery_id: str
    ) -> SocialMediaAccounts:
        return cls(
            id=strawberry.ID(discovery_part_id("SocialMediaAccounts", discovery_id)),
            **accounts.as_dict(),
        )


@_value_type("A source a social profile was found at.")
class SocialMediaCitation:
    id: strawberry.ID = _value_id(" and the citation's position in it")
    url: str = strawberry.field(description="The profile URL that was cited.")
    title: str | None = strawberry.field(description="The cited page's title, if known.")


@_value_type("Figures and findings computed from the competitors found.")
class ResearchSummary:
    id: strawberry.ID = _value_id()
    total_competitors: int = strawberry.field(description="How many competitors were found.")
    high_threat_count: int = strawberry.field(
        description=(
            f"How many have a relevance score of at least {discovery.HIGH_THREAT_THRESHOLD:.2f}."
        )
    )
    competitive_landscape: str = strawberry.field(
        description=(
            "One of: `highly competitive`, `moderately competitive`, `emerging`,"
            " `no competitors found`."
        )
    )
    key_findings: list[str] = strawberry.field(description="Sentences a person can read.")


@strawberry.type(
    description=(
        "One competitor research run, stored and owned by the viewer. It is a job: until"
        " `status` is COMPLETED its lists are empty and its counts zero."
    )
)
class CompetitorDiscovery(Node):
    id: strawberry.ID = strawberry.field(
        description=(
            "Opaque, stable global id; pass it to `node`, `competitorDiscovery` or step 3's"
            " `discoveryId`."
        )
    )
    user_url: str = strawberry.field(description="The researched site's URL, normalised.")
    domain: str = strawberry.field(description="The researched site's registrable domain.")
    industry_context: str | None = strawberry.field(
        description="The industry the request named, if any."
    )
    requested_results: int = strawberry.field(description="How many competitors were asked for.")
    status: DiscoveryStatus = strawberry.field(
        description="Where the job stands; only a COMPLETED discovery has results."
    )
    failure: UserError | None = strawberry.field(
        description=(
            "Why the job FAILED, with the code `discoverCompetitors` answers for it"
            " (`PROVIDER_UNAVAILABLE`, `PROVIDER_MISCONFIGURED`);"
            " null unless `status` is FAILED."
        )
    )
    shortfall: int = strawberry.field(
        description="How many of those the provider could not find (0 when all were found)."
    )
    competitors: list[Competitor] = strawberry.field(
        description=(
            "The competitors found, most relevant first; the site's own domain never."
            " Empty until COMPLETED."
        ),
        metadata=list_size(MAX_RESULTS),
    )
    social_media_accounts: SocialMediaAccounts = strawberry.field(
        description="The researched site's own social profiles."
    )
    social_media_citations: list[SocialMediaCitation] = strawberry.field(
        description="Where each social profile was found.",
        metadata=list_size(len(fields(discovery.SocialMediaAccounts))),  # one per platform
    )
    research_summary: ResearchSummary = strawberry.field(
        description="Figures and findings computed from the competitors."
    )
    provider: str = strawberry.field(
        description="Which provider answers (or answered) it: `exa` or `catalog`."
    )
    cached: bool = strawberry.field(
        description=(
            "True when `discoverCompetitors` answered with an identical discovery made in the"
            " last 24 hours instead of asking the provider again; false otherwise."
        )
    )
    created_at: datetime = strawberry.field(description="When the discovery was asked for.")

    @classmethod
    def from_discovery(cls, found: Discovery) -> CompetitorDiscovery:
        record = found.record
        summary = found.research_summary
        key = record.id
        return cls(
            id=strawberry.ID(found.global_id),
            user_url=record.url,
            domain=record.domain,
            industry_context=record.industry_context,
            requested_results=record.requested_results,
            status=found.status,
            failure=UserError.from_problem(found.failure) if found.failure is not None else None,
            shortfall=found.shortfall,
            competitors=[Competitor.from_model(c, key) for c in found.competitors],
            social_media_accounts=SocialMediaAccounts.from_model(found.social_media_accounts, key),
            social_media_citations=[
                SocialMediaCitation(
                    id=strawberry.ID(discovery_part_id("SocialMediaCitation", key, position)),
                    url=c.url,
                    title=c.title,
                )
                for position, c in enumerate(found.social_media_citations)
            ],
            research_summary=ResearchSummary(
                id=strawberry.ID(discovery_part_id("ResearchSummary", key)),
                total_competitors=summary.total_competitors,
                high_threat_count=summary.high_threat_count,
                competitive_landscape=summary.competitive_landscape,
                key_findings=list(summary.key_findings),
            ),
            provider=record.provider,
            cached=found.cached,
            created_at=record.created_at,
        )
