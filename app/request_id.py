"""One id per request: taken from `X-Request-ID` or made, returned, and put on every log line."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_HEADER_NAME = REQUEST_ID_HEADER.encode()
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._\-]{1,128}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this task, if any."""
    return _current.get()


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so it costs next to nothing per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # WebSocket handshakes too, so the server's line about each one has its id.
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = ""
        for name, value in scope["headers"]:
            if name == _HEADER_NAME:
                offered = value.decode("latin-1")  # the last one, as a dict of them would keep
        # A client's id is kept only if it is harmless in logs and headers. A made one
        # is 32 random hex digits, the form `uuid4().hex` gave, at a fifth of its cost.
        request_id = offered if _ACCEPTABLE.fullmatch(offered) else os.urandom(16).hex()
        token = _current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Reset only after a normal return: what escapes is logged by the server
        # once this has returned, and that line needs the id too (the server's
        # task for the request ends right after).
        _current.reset(token)
