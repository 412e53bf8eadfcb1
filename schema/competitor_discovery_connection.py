"""The viewer's discovery history as a Relay-style connection, newest first."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError

from resolvers.discovery import DiscoveryPage, discovery_count
from resolvers.discovery_codec import Discovery
from resolvers.global_ids import discovery_cursor, parse_discovery_cursor
from schema.competitor_discovery import CompetitorDiscovery
from schema.context import Info

DEFAULT_FIRST = 10
MAX_FIRST = 100
INVALID_ARGUMENT = "INVALID_ARGUMENT"


@strawberry.type(
    description=(
        "Where a page of a connection sits in the whole list. A value of its connection,"
        " with no identity of its own (caches keep it inside the connection)."
    )
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Always false: this connection pages forward only (`first`/`after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor, to pass as `after` for the next page."
    )


@strawberry.type(description="One discovery in the viewer's history.")
class CompetitorDiscoveryEdge:
    cursor: str = strawberry.field(description="Opaque position of this edge, for `after`.")
    node: CompetitorDiscovery = strawberry.field(description="The discovery.")

    @classmethod
    def from_discovery(cls, found: Discovery) -> CompetitorDiscoveryEdge:
        return cls(
            cursor=discovery_cursor(found.record.created_at, found.record.id),
            node=CompetitorDiscovery.from_discovery(found),
        )


@strawberry.type(description="A page of the viewer's discoveries, newest first.")
class CompetitorDiscoveryConnection:
    edges: list[CompetitorDiscoveryEdge] = strawberry.field(description="The discoveries.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")
    owner: strawberry.Private[str]

    @strawberry.field(description="How many discoveries the viewer has in all, on every page.")
    async def total_count(self, info: Info) -> int:
        return await discovery_count(info.context.services, self.owner)

    @classmethod
    def from_page(cls, page: DiscoveryPage, owner: str) -> CompetitorDiscoveryConnection:
        edges = [CompetitorDiscoveryEdge.from_discovery(found) for found in page.discoveries]
        return cls(
            owner=owner,
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _invalid(message: str, argument: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": INVALID_ARGUMENT, "argument": argument})


def check_first(first: int | None) -> int:
    """`first` as a page size, or the INVALID_ARGUMENT error the client gets."""
    if first is None:
        return DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise _invalid(f"`first` must be between 1 and {MAX_FIRST}.", "first")
    return first


def check_after(after: str | None) -> tuple[datetime, str] | None:
    """The position `after` names, or the INVALID_ARGUMENT error the client gets."""
    if after is None:
        return None
    try:
        return parse_discovery_cursor(after)
    except ValueError:
        raise _invalid("`after` is not a cursor this connection gave out.", "after") from None
