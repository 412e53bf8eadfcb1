"""`discoverCompetitors`: research the competitors of the viewer's site."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers.discovery import DiscoveryOutcome, discover_competitors
from resolvers.discovery_input import DiscoveryForm
from schema.competitor_discovery import CompetitorDiscovery
from schema.competitor_discovery_connection import CompetitorDiscoveryEdge
from schema.context import Info
from schema.deprecation import session_id_input, session_id_output
from schema.user_error import UserError, user_errors


@strawberry.input(description="What to research, and how many competitors to find.")
class DiscoverCompetitorsInput:
    session_id: str | None = session_id_input()
    user_url: str = strawberry.field(
        description="The site to research: an http(s) URL; `https://` is assumed if omitted."
    )
    industry_context: str | None = strawberry.field(
        default=None, description="The site's industry in a few words, at most 200 characters."
    )
    num_results: int = strawberry.field(
        default=25, description="How many competitors to find, 1 to 100. Never silently capped."
    )
    website_analysis_data: JSON | None = strawberry.field(
        default=None,
        description=(
            "The step 2 website analysis object (`target_audience`, `content_type`,"
            " `recommended_settings.industry_context`, …), at most 256 KiB; used as text"
            " to target the search."
        ),
    )
    refresh: bool = strawberry.field(
        default=False,
        description=(
            "Ask the provider again even if an identical discovery was made in 24 hours"
            " (an identical one still under way is joined, not repeated)."
        ),
    )
    wait: bool = strawberry.field(
        default=True,
        description=(
            "Wait for the discovery to finish and answer it (a failure as `userErrors`), as"
            " before jobs existed; a job still queued for a provider slot when the provider's"
            " time limit has passed is answered as it stands. False answers at once with the"
            " discovery PENDING or RUNNING; read it later with `competitorDiscovery(id:)`. The"
            " job runs to its end either way, whether or not the client stays connected."
        ),
    )

    def form(self) -> DiscoveryForm:
        """The input as the rules check it: every field but the ignored `sessionId`."""
        return DiscoveryForm(
            **{field.name: getattr(self, field.name) for field in fields(DiscoveryForm)}
        )


@strawberry.type(description="The result of `discoverCompetitors`.")
class DiscoverCompetitorsPayload:
    session_id: str | None = session_id_output()
    discovery: CompetitorDiscovery | None = strawberry.field(
        description=(
            "The discovery: new, joined (an identical one already under way) or cached;"
            " null when `userErrors` is not empty."
        )
    )
    discovery_edge: CompetitorDiscoveryEdge | None = strawberry.field(
        description=(
            "The discovery as an edge of `competitorDiscoveries` (newest first), for clients"
            " to prepend (Relay `@prependEdge`); null when `userErrors` is not empty."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description="What was wrong with the input or the provider; empty on success."
    )

    @classmethod
    def from_outcome(cls, outcome: DiscoveryOutcome, viewer_id: str) -> DiscoverCompetitorsPayload:
        found = outcome.discovery
        # The edge's node is the discovery: built once, for both fields.
        edge = CompetitorDiscoveryEdge.from_discovery(found) if found is not None else None
        return cls(
            session_id=viewer_id,
            discovery=edge.node if edge is not None else None,
            discovery_edge=edge,
            user_errors=user_errors(outcome.problems),
        )


async def discover_competitors_mutation(
    info: Info,
    input: Annotated[
        DiscoverCompetitorsInput, strawberry.argument(description="The site and options.")
    ],
) -> DiscoverCompetitorsPayload:
    viewer = info.context.require_viewer()
    outcome = await discover_competitors(info.context.services, viewer.id, input.form())
    return DiscoverCompetitorsPayload.from_outcome(outcome, viewer.id)
