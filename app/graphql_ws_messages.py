"""What a client may send on a graphql-transport-ws socket, checked before anything acts on it.

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) has five client
messages: `connection_init`, `ping`, `pong`, `subscribe` and `complete`. Any
text frame that is not one of them, exactly as the protocol shapes it, is
refused with the reason `read_client_message` gives, and the socket is closed
with 4400 (the protocol's answer to an invalid message).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

# graphql-ws makes UUIDs; other clients count. Anything this long is abuse.
MAX_OPERATION_ID_LENGTH = 128

_OPTIONAL_OBJECT = "must be an object or null"


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """Why a client message was refused; short enough for a WebSocket close reason."""

    reason: str


def _is_object_or_null(value: object) -> bool:
    return value is None or isinstance(value, dict)


def _payload_problem(message: Mapping[str, object]) -> str | None:
    if not _is_object_or_null(message.get("payload")):
        return f"`payload` {_OPTIONAL_OBJECT}"
    return None


def _id_problem(message: Mapping[str, object]) -> str | None:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        return "`id` must be a non-empty string"
    if len(operation_id) > MAX_OPERATION_ID_LENGTH:
        return f"`id` is longer than {MAX_OPERATION_ID_LENGTH} characters"
    return None


def _subscribe_problem(message: Mapping[str, object]) -> str | None:
    problem = _id_problem(message)
    if problem is not None:
        return problem
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "`payload` must be an object"
    if not isinstance(payload.get("query"), str):
        return "`payload.query` must be a string"
    for name in ("variables", "extensions"):
        if not _is_object_or_null(payload.get(name)):
            return f"`payload.{name}` {_OPTIONAL_OBJECT}"
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return "`payload.operationName` must be a string or null"
    return None


_CHECKS: dict[str, Callable[[Mapping[str, object]], str | None]] = {
    "connection_init": _payload_problem,
    "ping": _payload_problem,
    "pong": _payload_problem,
    "subscribe": _subscribe_problem,
    "complete": _id_problem,
}


def read_client_message(decoded: object) -> Message | InvalidMessage:
    """The client message `decoded` (a JSON value) is, or why it is none."""
    if not isinstance(decoded, dict):
        return InvalidMessage("Invalid message: not a JSON object")
    kind = decoded.get("type")
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    if check is None:
        return InvalidMessage("Invalid message: unknown `type`")
    problem = check(decoded)
    if problem is not None:
        return InvalidMessage(f"Invalid {kind} message: {problem}")
    return cast(Message, decoded)
