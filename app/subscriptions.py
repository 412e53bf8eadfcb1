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
client already left, and the server refuses messages over its size limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple, cast

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from app.graphql_ws_messages import InvalidMessage, read_client_message
from app.metrics import Metrics
from app.request_json import loads_request_json
from auth import AuthenticatedUser, InvalidTokenError, JWKSUnavailableError, TokenVerifier
from auth import authenticate as authenticate_header
from schema import GraphQLContext

logger = logging.getLogger(__name__)

BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
CONNECTION_INIT_TIMEOUT = 4408
SUBSCRIBER_ALREADY_EXISTS = 4409
TOO_MANY_INITIALISATION_REQUESTS = 4429
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
ONLY_SUBSCRIPTIONS = (
    "Only subscriptions are served over WebSocket; send queries and mutations over HTTP."
)
# A close frame holds at most 125 bytes: a 2-byte code and the reason.
_MAX_REASON_BYTES = 123
_SOCKET_ERRORS = (WebSocketDisconnect, RuntimeError, OSError)


class Refusal(NamedTuple):
    code: int
    reason: str


NO_CREDENTIALS = Refusal(
    UNAUTHORIZED, 'Unauthorized: send {"Authorization": "Bearer <token>"} in connection_init'
)
TOKEN_EXPIRED = Refusal(FORBIDDEN, "Forbidden: the token expired; reconnect with a fresh one")
KEYS_UNAVAILABLE = Refusal(
    TRY_AGAIN_LATER, "Try again later: the identity provider's keys cannot be fetched"
)


@dataclass(frozen=True, slots=True)
class SubscriptionLimits:
    """Per process; the settings' `subscriptions_per_connection`, `websocket_*`."""

    subscriptions_per_connection: int = 20
    connections_per_user: int = 10
    connections_total: int = 1000
    init_timeout_seconds: float = 10.0
    # A token is good until its `exp` plus this (the verifier's leeway); so is its socket.
    token_leeway_seconds: float = 60.0


def _fit(reason: str) -> str:
    """`reason`, cut to what a close frame can carry."""
    encoded = reason.encode()
    if len(encoded) <= _MAX_REASON_BYTES:
        return reason
    return encoded[: _MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


async def close_socket(socket: WebSocket, code: int, reason: str) -> None:
    """Close `socket` unless it is closed already; never raises."""
    if WebSocketState.DISCONNECTED in (socket.application_state, socket.client_state):
        return
    with contextlib.suppress(*_SOCKET_ERRORS):
        await socket.close(code, _fit(reason))


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


def _not_executed(result: ExecutionResult) -> bool:
    """Nothing was run: the document did not parse, validate, coerce or pass a limit.

    Those errors carry no `path`, as on HTTP (`app/graphql.py`); a subscription
    refused as it starts (an id that is not the viewer's) answers at its field.
    """
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _explained(errors: list[GraphQLError]) -> list[GraphQLError]:
    """`errors`, with Strawberry's "queries are not allowed" saying what to do instead."""
    return [
        GraphQLError(ONLY_SUBSCRIPTIONS)
        if isinstance(error.original_error, InvalidOperationTypeError)
        else error
        for error in errors
    ]


class _SocketGoneError(Exception):
    """The socket was closed (by either side) while something was still to be sent."""


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
        except _SOCKET_ERRORS:
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


class TransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """Strawberry's graphql-transport-ws handler, made strict where it trusts the client.

    Strawberry's reads messages by indexing them (a message that is a list, or a
    `subscribe` whose payload is a string, raises where it is not caught), lets a
    send to a socket already closed raise into its tasks, and echoes the client's
    `id` into a close reason that may then not fit a close frame; each of those was
    a logged traceback. This one checks every message first, reads and sends
    through methods that tolerate a closed socket, authenticates `connection_init`
    with the service's verifier, and serves subscriptions only.
    """

    def __init__(self, *, server: SubscriptionServer, socket: WebSocket, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.server = server
        self.socket = socket
        self.closed = False
        self.viewer_id: str | None = None
        self.expiry: asyncio.Task[None] | None = None

    # -- reading and writing -------------------------------------------------

    async def handle(self) -> None:
        self.on_request_accepted()
        try:
            async for message in self._messages():
                await self.handle_message(message)
        except _SocketGoneError:
            pass
        finally:
            await self.shutdown()

    async def _messages(self) -> AsyncIterator[Message]:
        while not self.closed:
            try:
                event = await self.socket.receive()
            except _SOCKET_ERRORS:
                return
            if event["type"] != "websocket.receive":
                return  # websocket.disconnect
            text = event.get("text")
            if not isinstance(text, str):
                await self.close(BAD_REQUEST, "Invalid message: binary frames are not accepted")
                return
            try:
                decoded = loads_request_json(text)
            except (ValueError, RecursionError):
                await self.close(BAD_REQUEST, "Invalid message: not valid JSON")
                return
            message = read_client_message(decoded)
            if isinstance(message, InvalidMessage):
                await self.close(BAD_REQUEST, message.reason)
                return
            yield message

    async def send_message(self, message: Message) -> None:
        if self.closed:
            raise _SocketGoneError
        encoded = self.view.encode_json(message)
        try:
            await self.socket.send_text(encoded if isinstance(encoded, str) else encoded.decode())
        except _SOCKET_ERRORS as error:
            self.closed = True
            raise _SocketGoneError from error

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        logger.info("closing a WebSocket: %d %s", code, _fit(reason))
        await close_socket(self.socket, code, reason)

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.close(BAD_REQUEST, error_message)

    # -- the protocol's messages ---------------------------------------------

    async def handle_message(self, message: Message) -> None:
        if message["type"] == "connection_init":
            await self.handle_connection_init(message)
        elif message["type"] == "ping":
            await self.send_message({"type": "pong"})
        elif message["type"] == "subscribe":
            await self.handle_subscribe(message)
        elif message["type"] == "complete":
            await self.handle_complete(message)
        # `pong` answers a ping this server never sends: nothing to do.

    async def handle_connection_init_timeout(self) -> None:
        await asyncio.sleep(self.connection_init_wait_timeout.total_seconds())
        if not self.connection_init_received:
            self.connection_timed_out = True
            await self.close(CONNECTION_INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task is not None:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.close(TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
            return
        self.connection_init_received = True
        identified = await self.server.identify(message.get("payload"))
        if isinstance(identified, Refusal):
            await self.close(*identified)
            return
        seconds_left = self.server.seconds_left(identified)
        if seconds_left <= 0:
            await self.close(*TOKEN_EXPIRED)
            return
        if not self.server.sockets.admit(identified.id):
            limit = self.server.limits.connections_per_user
            await self.close(
                TRY_AGAIN_LATER, f"Try again later: at most {limit} connections per user"
            )
            return
        self.viewer_id = identified.id
        self.context.viewer = identified
        self.expiry = asyncio.create_task(self._close_when_expired(seconds_left))
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _close_when_expired(self, seconds_left: float) -> None:
        await asyncio.sleep(seconds_left)
        await self.close(*TOKEN_EXPIRED)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.close(UNAUTHORIZED, "Unauthorized: subscribe only after connection_ack")
            return
        operation_id = message["id"]
        if operation_id in self.operations:
            await self.close(SUBSCRIBER_ALREADY_EXISTS, "Subscriber for that id already exists")
            return
        limit = self.server.limits.subscriptions_per_connection
        if len(self.operations) >= limit:
            error = GraphQLError(
                f"At most {limit} subscriptions at once on one connection; complete one first.",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS},
            )
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [error.formatted]}
            )
            return
        payload = message["payload"]
        operation = Operation(
            self,
            operation_id,
            payload["query"],
            payload.get("variables"),
            payload.get("operationName"),
        )
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[operation_id] = operation

    async def handle_complete(self, message: CompleteMessage) -> None:
        await self.cleanup_operation(message["id"])

    # -- running a subscription ----------------------------------------------

    async def run_operation(self, operation: Operation[GraphQLContext, None]) -> None:
        gauge = self.server.metrics.subscriptions_open
        gauge.inc()
        try:
            results = await self.schema.subscribe(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=None,
                operation_name=operation.operation_name,
            )
            async with aclosing(results):
                first = True
                async for result in results:
                    if first and _not_executed(result):
                        await operation.send_initial_errors(_explained(result.errors or []))
                        return
                    first = False
                    await operation.send_next(result)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except GraphQLError as error:
            # A document that does not parse, or that a limit refuses while it is
            # parsed, is raised through the stream rather than yielded.
            with contextlib.suppress(_SocketGoneError):
                await operation.send_initial_errors([error])
        except _SocketGoneError:
            pass
        except Exception:  # a bug: logged once, and the client told the operation ended
            logger.exception("unexpected error in subscription %s", operation.operation_name)
            self.operations.pop(operation.id, None)
            with contextlib.suppress(_SocketGoneError):
                await self.send_message({"id": operation.id, "type": "complete"})
        finally:
            gauge.dec()

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        await super().shutdown()
        if self.viewer_id is not None:
            self.server.sockets.leave(self.viewer_id)
            self.viewer_id = None
