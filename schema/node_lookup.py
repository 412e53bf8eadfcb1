"""`Query.node` and `Query.nodes`: refetch any of the viewer's objects by its global id.

An id that is malformed, of a type `node` does not serve, names another user's
object or one that no longer exists answers null, and all four take the same
path: ids carry their owner, and an id that is not the viewer's is answered
without reading the database, while a discovery id is looked up only among
the viewer's own discoveries. Nothing tells "someone else's" from "none".
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from graphql import GraphQLError

from resolvers.global_ids import DiscoveryRef, ProgressRef, StepRef, parse_node_id
from schema.competitor_discovery import CompetitorDiscovery
from schema.context import Info
from schema.node import Node
from schema.onboarding import progress_from_record, step_by_number

MAX_NODE_IDS = 100
INVALID_ARGUMENT = "INVALID_ARGUMENT"


async def _lookup(info: Info, user_id: str, global_id: str) -> Node | None:
    ref = parse_node_id(global_id)
    if isinstance(ref, DiscoveryRef):
        found = await info.context.discovery_by_id.load((user_id, ref.discovery_id))
        return CompetitorDiscovery.from_discovery(found) if found is not None else None
    if isinstance(ref, ProgressRef | StepRef) and ref.user_id == user_id:
        progress = progress_from_record(await info.context.progress_by_user.load(user_id))
        if isinstance(ref, ProgressRef):
            return progress
        return step_by_number(progress.steps, ref.number)
    return None


async def node(
    info: Info,
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="A global id, as any `Node`'s `id` field gave it."),
    ],
) -> Node | None:
    viewer = info.context.require_viewer()
    return await _lookup(info, viewer.id, str(id))


async def nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description=f"Up to {MAX_NODE_IDS} global ids."),
    ],
) -> list[Node | None]:
    viewer = info.context.require_viewer()
    if len(ids) > MAX_NODE_IDS:
        raise GraphQLError(
            f"`ids` may hold at most {MAX_NODE_IDS} ids.",
            extensions={"code": INVALID_ARGUMENT, "argument": "ids"},
        )
    # Together, so the loaders batch every discovery id into one read.
    return list(await asyncio.gather(*(_lookup(info, viewer.id, str(id_)) for id_ in ids)))
