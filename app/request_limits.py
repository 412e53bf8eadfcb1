"""Refuse, before any GraphQL work, POSTs that are not JSON (415), bodies over the limit (413)
and bodies that arrive too slowly (408).

Only `application/json` POSTs reach /graphql: `text/plain`, form and multipart
bodies are what a cross-site HTML form or a "simple" cross-origin fetch can send
without a CORS preflight, so refusing them means no other site can make a
browser mutate on a user's behalf. GET stays for queries (Strawberry refuses
mutations over GET).

A body must have arrived `body_read_timeout` seconds after its headers: a client
that trickles it is answered 408 and its connection closed. A body the app
never reads cannot hold the connection either: unless the whole body was read,
the response closes the connection. (The headers' own deadline is enforced by
the server's protocol, `app/header_deadline.py`.)
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.error_responses import graphql_error_response

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
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


class _BodyTooSlowError(Exception):
    """The body was not all there by its deadline: raised from `receive`, answered 408."""


class _GuardedBody:
    """The request's `receive` as the app reads it, held to the limit and the deadline.

    Nothing is buffered: each message goes to the app as it arrives.
    """

    def __init__(self, receive: Receive, max_body_bytes: int, deadline: float) -> None:
        self._receive = receive
        self._max_body_bytes = max_body_bytes
        self._deadline = deadline
        self._size = 0
        self.complete = False

    async def receive(self) -> Message:
        if self.complete:
            # Past the body, `receive` only waits for a disconnect, as long as the app likes.
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise _BodyTooSlowError from None
        if message["type"] != "http.request":  # the client went away
            self.complete = True
            return message
        self._size += len(message.get("body", b""))
        if self._size > self._max_body_bytes:
            raise _BodyTooLargeError
        self.complete = not message.get("more_body", False)
        return message


class RequestLimitsMiddleware:
    """Pure ASGI, like Starlette's own body limit: wraps `receive` and stops at the limit.

    A declared Content-Length over the limit is refused before the app runs; a
    body without one (chunked) is counted as the app reads it, and the read that
    passes the limit, or waits past the deadline, raises an error this
    middleware answers (413, 408) unless a response has started.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_read_timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_read_timeout = body_read_timeout

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
                    {"Accept-Post": "application/json", **_CLOSE},
                )
                return
        too_large = f"The request body is larger than {self.max_body_bytes} bytes."
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, too_large, _CLOSE)
            return
        deadline = asyncio.get_running_loop().time() + self.body_read_timeout
        body = _GuardedBody(receive, self.max_body_bytes, deadline)
        response_started = False

        async def send_closing_if_unread(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                if not body.complete:
                    # Whatever is left of the body is never read: do not let it
                    # keep trickling into a kept-alive connection.
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, body.receive, send_closing_if_unread)
        except _BodyTooLargeError:
            if response_started:  # too late to refuse; the server closes the connection
                raise
            await _refuse(scope, receive, send, 413, PAYLOAD_TOO_LARGE, too_large, _CLOSE)
        except _BodyTooSlowError:
            if response_started:
                raise
            too_slow = f"The request body did not arrive within {self.body_read_timeout:g} seconds."
            await _refuse(scope, receive, send, 408, REQUEST_TIMEOUT, too_slow, _CLOSE)
