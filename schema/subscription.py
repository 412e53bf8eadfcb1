"""The root `Subscription` type: live updates over WebSocket (graphql-transport-ws at /graphql).

A subscription answers at once with the current state, then again after each
change, whichever process made it. An unexpected failure while following
(the database went away, say) ends the subscription with one masked error
(`INTERNAL_SERVER_ERROR`, or `SERVICE_UNAVAILABLE`): the client subscribes
again, and gets the current state at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError

from resolvers.errors import ErrorCode
from resolvers.live_updates import discovery_updates, progress_updates
from schema.competitor_discovery import CompetitorDiscovery
from schema.context import Info
from schema.onboarding import OnboardingProgress, progress_from_record

T = TypeVar("T")

NO_SUCH_DISCOVERY = "No competitor discovery of yours has that id."


async def _located(info: Info, events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """`events`, with an unexpected failure turned into an error at this field.

    With its path (and the failure as its cause) the error is masked and logged
    like any resolver's (`MaskUnexpectedErrors`), never shown to the client.
    `events` is closed as soon as this is (its watch ends with it).
    """
    try:
        async with aclosing(events):
            async for event in events:
                yield event
    except GraphQLError:
        raise
    except Exception as error:
        raise GraphQLError(str(error), path=info.path.as_list(), original_error=error) from error


@strawberry.type(
    description=(
        "Live updates, over WebSocket with the graphql-transport-ws protocol at /graphql,"
        ' authenticated by `{"Authorization": "Bearer <token>"}` in `connection_init`.'
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "One of the viewer's competitor discoveries: at once as it stands, then at each"
            " change of its status; the subscription completes after COMPLETED or FAILED (at"
            " once if it already is) or when the discovery is deleted. An id that is"
            " malformed, unknown or another user's answers one error with code NOT_FOUND,"
            " then completes."
        )
    )
    async def competitor_discovery(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The discovery's global id.")],
    ) -> AsyncGenerator[CompetitorDiscovery, None]:
        viewer = info.context.require_viewer()
        found = False
        updates = _located(info, discovery_updates(info.context.services, viewer.id, str(id)))
        async with aclosing(updates):
            async for discovery in updates:
                found = True
                yield CompetitorDiscovery.from_discovery(discovery)
        if not found:
            raise GraphQLError(
                NO_SUCH_DISCOVERY,
                path=info.path.as_list(),
                extensions={"code": ErrorCode.NOT_FOUND.value},
            )

    @strawberry.subscription(
        description=(
            "The viewer's onboarding progress: at once, then after every change made by any"
            " request of the viewer (another tab, another device), in any process."
        )
    )
    async def onboarding_progress(self, info: Info) -> AsyncGenerator[OnboardingProgress, None]:
        viewer = info.context.require_viewer()
        updates = _located(info, progress_updates(info.context.services, viewer.id))
        async with aclosing(updates):
            async for progress in updates:
                yield progress_from_record(progress)
