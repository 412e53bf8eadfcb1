"""The graphql-transport-ws protocol on one WebSocket, strict where Strawberry's handler trusts
the client (github.com/enisdenjo/graphql-ws, PROTOCOL.md, for the messages and close codes).

What a connection may do (who, how many, how long) is the `SubscriptionServer`'s
to say (`app/subscriptions.py`); this module speaks the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.schema.exceptions import InvalidOperationTypeError
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
from app.request_json import loads_request_json
from schema import GraphQLContext

if TYPE_CHECKING:
    from app.subscriptions import SubscriptionServer

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
SOCKET_ERRORS = (WebSocketDisconnect, RuntimeError, OSError)


class Refusal(NamedTuple):
    """Why a socket is closed: its close code and reason."""

    code: int
    reason: str


TOKEN_EXPIRED = Refusal(FORBIDDEN, "Forbidden: the token expired; reconnect with a fresh one")


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
    with contextlib.suppress(*SOCKET_ERRORS):
        await socket.close(code, _fit(reason))


def _not_executed(result: ExecutionResult) -> bool:
    """Nothing was run: the document did not parse, validate, coerce or pass a limit.

    Those errors carry no `path`, as on HTTP (`app/graphql_http.py`); a subscription
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
            except SOCKET_ERRORS:
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
        except SOCKET_ERRORS as error:
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
