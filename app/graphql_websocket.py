"""WebSocket /graphql: the upgrade handed to the subscription server (graphql-transport-ws).

HTTP at the same path is `app.graphql_http`'s. Strawberry's FastAPI router
serves the WebSocket only: it builds the context through the same getter and
checks a browser's `Origin` against the allowed origins (403 otherwise); the
protocol is `app/graphql_transport_ws.py`'s, who may connect and for how long
`app/subscriptions.py`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi import Depends
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.subscriptions import SubscriptionServer
from schema import GraphQLContext

__all__ = ["SubscriptionRouter"]


class SubscriptionRouter(GraphQLRouter[GraphQLContext, None]):
    """A router with one WebSocket route, handing each socket to `subscriptions`."""

    def __init__(
        self,
        schema: Schema,
        *,
        context_getter: Callable[[HTTPConnection], Awaitable[GraphQLContext]],
        subscriptions: SubscriptionServer,
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(
            schema,
            context_getter=context_getter,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.subscriptions = subscriptions

        async def serve(
            socket: WebSocket,
            context: GraphQLContext = Depends(self.context_getter),  # noqa: B008  # FastAPI's injection
        ) -> None:
            # Browsers send Origin; a page on an origin not allowed is refused (403).
            if not self._check_websocket_origin(socket):
                await self.reject_websocket(socket)
                return
            await self.subscriptions.serve(self, socket, context)

        # Strawberry's own routes give way to this one: GET and POST at this path are
        # GraphQLEndpoint's, and its WebSocket route would go through `run`, which
        # serves HTTP and graphql-ws as well.
        self.routes = []
        self.add_api_websocket_route("", serve)
