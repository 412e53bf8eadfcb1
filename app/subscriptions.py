"""GraphQL subscriptions over WebSocket: graphql-transport-ws at /graphql, authenticated in
`connection_init`, bounded, and closed when the token it was opened with expires.

A client (graphql-ws's `createClient`, Apollo Client's `GraphQLWsLink`, urql)
sends `{"Authorization": "Bearer <token>"}` as the `connection_init` payload
(`authorization` is accepted too). The token goes through the same verifier as
over HTTP. Only subscriptions are served: queries and mutations go over HTTP.

How a socket is closed (graphql-ws's codes where it has one), and what the
graphql-ws client then does by default (R: retries, X: gives up):

    4400  Invalid message …          binary, not JSON, not a protocol message         X
    4401  Unauthorized …             no credentials in `connection_init`, or a        X
                                     `subscribe` before the acknowledgement
    4403  Forbidden: …               the token is refused (malformed, expired, wrong  R *
                                     issuer …), or it expired while the socket was
                                     open
    4406  Subprotocol not acceptable graphql-transport-ws was not offered             X
    4408  Connection initialisation… no `connection_init` in time                     R
    4409  Subscriber for that id …   an `id` already in use on the socket             X
    4429  Too many initialisation …  a second `connection_init`                       X
    1013  Try again later: …         too many connections (the user's, or this        R
                                     process's); the issuer's keys are unavailable
    1011  Internal error             a bug, logged with its traceback                 X

* and asks `connectionParams` again, so a client that gets its token there
  reconnects with a fresh one.

A subscription beyond the connection's limit is answered with an `error`
message (`TOO_MANY_SUBSCRIPTIONS`); the socket stays open. Nothing a client
sends makes the service log a traceback: every message is checked
(`app/graphql_ws_messages.py`), every send and close tolerates a socket the
client already left (`app/graphql_transport_ws.py`), and the server refuses
messages over its size limit and text that is not UTF-8
(`app/websocket_protocol.py`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.graphql_transport_ws import (
    FORBIDDEN,
    INTERNAL_ERROR,
    SOCKET_ERRORS,
    SUBPROTOCOL_NOT_ACCEPTABLE,
    TRY_AGAIN_LATER,
    UNAUTHORIZED,
    Refusal,
    TransportWSHandler,
    close_socket,
)
from app.metrics import Metrics
from auth import AuthenticatedUser, InvalidTokenError, JWKSUnavailableError, TokenVerifier
from auth import authenticate as authenticate_header
from schema import GraphQLContext

logger = logging.getLogger(__name__)

NO_CREDENTIALS = Refusal(
    UNAUTHORIZED, 'Unauthorized: send {"Authorization": "Bearer <token>"} in connection_init'
)
KEYS_UNAVAILABLE = Refusal(
    TRY_AGAIN_LATER, "Try again later: the identity provider's keys cannot be fetched"
)


@dataclass(frozen=True, slots=True)
class SubscriptionLimits:
    """What this process allows its WebSocket connections.

    The app builds one from its settings: `subscriptions_per_connection`, the
    `websocket_*` ones, and the verifier's `jwt_leeway_seconds`.
    """

    subscriptions_per_connection: int = 20
    """Subscriptions running at once on one socket; one more is answered with an `error`
    message (`TOO_MANY_SUBSCRIPTIONS`) and the socket stays open."""
    connections_per_user: int = 10
    """Sockets one user holds open; another is closed (1013) after its `connection_init`."""
    connections_total: int = 1000
    """Sockets open in this process, whoever holds them; another is closed (1013) at once."""
    init_timeout_seconds: float = 10.0
    """How long a new socket has to send `connection_init`; then it is closed (4408)."""
    token_leeway_seconds: float = 60.0
    """A token is good until its `exp` plus this (the verifier's leeway); so is its socket."""


class OpenSockets:
    """This process's WebSocket connections, in all and per user, held to the limits."""

    def __init__(self, limits: SubscriptionLimits, metrics: Metrics) -> None:
        self.limits = limits
        self.metrics = metrics
        self.total = 0
        self._per_user: Counter[str] = Counter()

    def open(self) -> bool:
        if self.total >= self.limits.connections_total:
            return False
        self.total += 1
        self.metrics.websocket_connections_open.inc()
        return True

    def closed(self) -> None:
        self.total -= 1
        self.metrics.websocket_connections_open.dec()

    def admit(self, user_id: str) -> bool:
        """Count one more connection of the user, unless they have as many as they may."""
        if self._per_user[user_id] >= self.limits.connections_per_user:
            return False
        self._per_user[user_id] += 1
        return True

    def leave(self, user_id: str) -> None:
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]

    def of_user(self, user_id: str) -> int:
        return self._per_user[user_id]


class SubscriptionServer:
    """Serves graphql-transport-ws on the WebSockets the router hands it."""

    def __init__(
        self, *, verifier: TokenVerifier, limits: SubscriptionLimits, metrics: Metrics
    ) -> None:
        self.verifier = verifier
        self.limits = limits
        self.metrics = metrics
        self.sockets = OpenSockets(limits, metrics)

    async def identify(self, payload: Mapping[str, object] | None) -> AuthenticatedUser | Refusal:
        """The user the `connection_init` payload's bearer token names, or why there is none."""
        params = payload or {}
        header = params.get("Authorization", params.get("authorization"))
        if header is None:
            return NO_CREDENTIALS
        if not isinstance(header, str):
            return Refusal(FORBIDDEN, "Forbidden: invalid bearer token: not a string")
        try:
            user = await authenticate_header(header, self.verifier)
        except InvalidTokenError as error:
            return Refusal(FORBIDDEN, f"Forbidden: invalid bearer token: {error.reason}")
        except JWKSUnavailableError:
            return KEYS_UNAVAILABLE
        return NO_CREDENTIALS if user is None else user

    def seconds_left(self, user: AuthenticatedUser) -> float:
        """How long the user's token stays good: its expiry plus the verifier's leeway."""
        return user.expires_at.timestamp() + self.limits.token_leeway_seconds - time.time()

    async def serve(
        self,
        view: AsyncBaseHTTPView[Any, Any, Any, Any, Any, GraphQLContext, None],
        socket: WebSocket,
        context: GraphQLContext,
    ) -> None:
        offered = socket.scope.get("subprotocols") or []
        accepted = (
            GRAPHQL_TRANSPORT_WS_PROTOCOL if GRAPHQL_TRANSPORT_WS_PROTOCOL in offered else None
        )
        try:
            await socket.accept(subprotocol=accepted)
        except SOCKET_ERRORS:
            return  # the client left during the handshake
        if accepted is None:
            reason = "Subprotocol not acceptable: offer graphql-transport-ws"
            await close_socket(socket, SUBPROTOCOL_NOT_ACCEPTABLE, reason)
            return
        if not self.sockets.open():
            reason = "Try again later: too many connections to this server"
            await close_socket(socket, TRY_AGAIN_LATER, reason)
            return
        try:
            handler = TransportWSHandler(
                server=self,
                socket=socket,
                view=view,
                websocket=ASGIWebSocketAdapter(cast(Any, view), socket, socket),
                context=context,
                root_value=None,
                schema=view.schema,
                connection_init_wait_timeout=timedelta(seconds=self.limits.init_timeout_seconds),
                max_subscriptions_per_connection=self.limits.subscriptions_per_connection,
            )
            await handler.handle()
        except Exception:  # a bug: say so, and end this socket only
            logger.exception("unexpected error serving a WebSocket")
            await close_socket(socket, INTERNAL_ERROR, "Internal error")
        finally:
            self.sockets.closed()
