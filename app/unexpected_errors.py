"""The last resort: whatever escapes the app is answered as a GraphQL error, under its request id.

Starlette's own ServerErrorMiddleware sits outside every middleware an app
adds, so an exception raised outside GraphQL execution (in the context getter,
a middleware, a route) was answered `text/plain` with no X-Request-ID and
logged by the server after the request id was gone. This middleware runs
inside RequestIdMiddleware, so both the answer and the log line have the id:

- an exception: logged with its traceback, answered 500
  `INTERNAL_SERVER_ERROR` (with the `requestId`, as masked execution errors);
- a request cut short by the server (its task cancelled when a shutdown's
  grace period is over): answered 503 `SERVICE_UNAVAILABLE` with Retry-After,
  since the same request will succeed against a running instance; the
  cancellation carries on (it is the server's, not ours to swallow), and the
  server logs it;
- a client that left before sending its whole body: one line, no traceback and
  no answer (nobody is there to read it).

Once a response has started nothing can be answered: the error goes on to the
server, which closes the connection. Whatever goes on to the server is logged
by it with the request id too (RequestIdMiddleware leaves the id set then).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.error_responses import RETRY_AFTER_SECONDS, graphql_error_response
from app.request_id import current_request_id
from schema.extensions.mask_unexpected_errors import INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE

logger = logging.getLogger(__name__)


class UnexpectedErrorMiddleware:
    """Pure ASGI; add it inside RequestIdMiddleware (and inside CORS, so browsers can read it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except ClientDisconnect:
            logger.info(
                "%s: the client left before sending its whole body",
                _where(scope),
                extra={"request_id": current_request_id()},
            )
        except asyncio.CancelledError:
            # The server logs the cancellation itself, with the id (see the docstring).
            if not response_started:
                request_id = current_request_id()
                response = graphql_error_response(
                    Headers(scope=scope).get("accept"),
                    "The service is restarting; try again shortly.",
                    SERVICE_UNAVAILABLE,
                    status_code=503,
                    headers={"Retry-After": RETRY_AFTER_SECONDS},
                    request_id=request_id,
                )
                await response(scope, receive, send)
            raise
        except Exception:
            if response_started:
                raise  # the server logs it, with the id, and closes the connection
            # Still set: RequestIdMiddleware resets the id only after a normal return.
            request_id = current_request_id()
            logger.exception(
                "%s: unexpected error", _where(scope), extra={"request_id": request_id}
            )
            response = graphql_error_response(
                Headers(scope=scope).get("accept"),
                "Internal server error.",
                INTERNAL_SERVER_ERROR,
                status_code=500,
                request_id=request_id,
            )
            await response(scope, receive, send)


def _where(scope: Scope) -> str:
    return f"{scope['method']} {scope['path']}"
