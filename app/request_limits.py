"""Refuse, before any GraphQL work, bodies over the limit (413) and POSTs that are not JSON (415).

Only `application/json` POSTs reach /graphql: `text/plain`, form and multipart
bodies are what a cross-site HTML form or a "simple" cross-origin fetch can send
without a CORS preflight, so refusing them means no other site can make a
browser mutate on a user's behalf. GET stays for queries (Strawberry refuses
mutations over GET).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.error_responses import graphql_error_response

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
GRAPHQL_PATH = "/graphql"
_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The rest of the body is never read: the connection cannot carry another request.
_CLOSE = {"Connection": "close"}


def is_json_content_type(value: str | None) -> bool:
    """`application/json`, with no parameter but an optional `charset=utf-8`."""
    if value is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in value.split(";"))
    if media_type != "application/json":
        return False
    return all(parameter.replace(" ", "") in {"charset=utf-8", ""} for parameter in parameters)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str],
) -> None:
    accept = Headers(scope=scope).get("accept")
    response = graphql_error_response(accept, message, code, status_code=status, headers=headers)
    await response(scope, receive, send)


class _BodyTooLargeError(Exception):
    """More body than the limit: raised from `receive`, answered 413 by the middleware."""


class _CountedBody:
    """The request's `receive`, counting body bytes as the app reads them (nothing is buffered)."""

    def __init__(self, receive: Receive, max_body_bytes: int) -> None:
        self._receive = receive
        self._max_body_bytes = max_body_bytes
        self._size = 0

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._size += len(message.get("body", b""))
            if self._size > self._max_body_bytes:
                raise _BodyTooLargeError
        return message


class RequestLimitsMiddleware:
    """Pure ASGI, like Starlette's own body limit: wraps `receive` and stops at the limit.

    A declared Content-Length over the limit is refused before the app runs; a
    body without one (chunked) is counted as the app reads it, and the read that
    passes the limit raises, which this middleware answers with 413.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS_WITH_BODIES:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path: str = scope["path"]
        if scope["method"] == "POST" and (
            path == GRAPHQL_PATH or path.startswith(GRAPHQL_PATH + "/")
        ):
            content_type = headers.get(b"content-type", b"").decode("latin-1") or None
            if not is_json_content_type(content_type):
                await _refuse(
                    scope,
                    receive,
                    send,
                    415,
                    UNSUPPORTED_MEDIA_TYPE,
                    "POST a JSON body with `Content-Type: application/json`.",
                    {"Accept-Post": "application/json"},
                )
                return
        too_large = f"The request body is larger than {self.max_body_bytes} bytes."
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, too_large, _CLOSE)
            return
        response_started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        body = _CountedBody(receive, self.max_body_bytes)
        try:
            await self.app(scope, body.receive, send_noting_start)
        except _BodyTooLargeError:
            if response_started:  # too late to refuse; the server closes the connection
                raise
            await _refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, too_large, _CLOSE)
