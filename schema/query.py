"""The root `Query` type."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.discovery import discovery_page, find_discovery
from schema import node_lookup
from schema.competitor_discovery import CompetitorDiscovery
from schema.competitor_discovery_connection import (
    DEFAULT_FIRST,
    MAX_FIRST,
    CompetitorDiscoveryConnection,
    check_after,
    check_first,
)
from schema.context import Info
from schema.deprecation import session_id_argument
from schema.field_cost import page_size
from schema.node import Node
from schema.onboarding import (
    OnboardingProgress,
    OnboardingStep,
    progress_from_record,
    step_by_number,
)
from schema.viewer import Viewer


@strawberry.type(description="Read the viewer's onboarding.")
class Query:
    @strawberry.field(description="The authenticated user.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer.from_user(info.context.require_viewer())

    @strawberry.field(description="The viewer's onboarding progress (same as `viewer.onboarding`).")
    async def onboarding_progress(
        self,
        info: Info,
        session_id: Annotated[str | None, session_id_argument] = None,
    ) -> OnboardingProgress:
        viewer = info.context.require_viewer()
        return progress_from_record(await info.context.progress_by_user.load(viewer.id))

    @strawberry.field(description="One of the viewer's steps by number; null if there is none.")
    async def onboarding_step(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="Step number, 1 to 6.")],
    ) -> OnboardingStep | None:
        viewer = info.context.require_viewer()
        progress = progress_from_record(await info.context.progress_by_user.load(viewer.id))
        return step_by_number(progress.steps, number)

    @strawberry.field(
        description="One of the viewer's competitor discoveries; null if it is not theirs."
    )
    async def competitor_discovery(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The discovery's global id.")],
    ) -> CompetitorDiscovery | None:
        viewer = info.context.require_viewer()
        found = await find_discovery(info.context.services, viewer.id, str(id))
        return CompetitorDiscovery.from_discovery(found) if found is not None else None

    @strawberry.field(
        description="The viewer's competitor discoveries, newest first.",
        metadata=page_size("first", maximum=MAX_FIRST),
    )
    async def competitor_discoveries(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description=f"How many to return, 1 to {MAX_FIRST}."),
        ] = DEFAULT_FIRST,
        after: Annotated[
            str | None,
            strawberry.argument(description="Return the ones after this cursor (`endCursor`)."),
        ] = None,
    ) -> CompetitorDiscoveryConnection:
        viewer = info.context.require_viewer()
        size = check_first(first)
        position = check_after(after)
        page = await discovery_page(info.context.services, viewer.id, first=size, after=position)
        return CompetitorDiscoveryConnection.from_page(page, viewer.id)

    node: Node | None = strawberry.field(
        resolver=node_lookup.node,
        description=(
            "The viewer's object with this global id (any `Node`: a discovery, the progress,"
            " a step). Null when the id is malformed, unknown, another user's or deleted:"
            " the answer never tells those apart."
        ),
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=node_lookup.nodes,
        metadata=page_size("ids", maximum=node_lookup.MAX_NODE_IDS),
        description=(
            "The viewer's objects with these global ids, in the same order; null in place"
            " of each id `node` would answer null for."
        ),
    )
