"""WebSocket /graphql: the upgrade handed to the subscription server (graphql-transport-ws).

HTTP at the same path is `app.graphql_http`'s. Strawberry's FastAPI router
serves the WebSocket only: it builds the context through the same getter and
checks a browser's `Origin` against the allowed origins (403 otherwise); the
protocol is `app/graphql_transport_ws.py`'s, who may connect and for how long
`app/subscriptions.py`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import overload

from fastapi import Request, Response
from fastapi.routing import APIWebSocketRoute
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from app.subscriptions import SubscriptionServer
from schema import GraphQLContext

__all__ = ["SubscriptionRouter"]


class SubscriptionRouter(GraphQLRouter[GraphQLContext, None]):
    """A router with the WebSocket route alone, handing each socket to `subscriptions`."""

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
        # GET and POST at this path are GraphQLEndpoint's.
        self.routes = [route for route in self.routes if isinstance(route, APIWebSocketRoute)]

    @overload
    async def run(
        self,
        request: Request,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> Response: ...

    @overload
    async def run(
        self,
        request: WebSocket,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        if not isinstance(request, WebSocket):
            # This router has no HTTP route; GET and POST go to GraphQLEndpoint.
            raise TypeError("HTTP at /graphql is served by app.graphql_http")
        # Browsers send Origin; a page on an origin not allowed is refused (403).
        if not self._check_websocket_origin(request):
            return await self.reject_websocket(request)
        await self.subscriptions.serve(self, request, context)
        return request
