"""A deadline for a request's headers: connections that trickle them (slowloris) are closed.

uvicorn (checked on 0.54) has no header-read timeout. Its keep-alive timer is
armed only once a response has been sent and is cancelled by any byte that
arrives, so a client that opens a connection and sends nothing, or sends its
headers a byte at a time, holds the connection for as long as it likes.

`HeaderDeadlineProtocol` is uvicorn's own httptools protocol (the one its
`auto` setting picks when httptools is installed, as `uvicorn[standard]` does)
with one timer more: armed when the connection opens, and again when the first
byte of each following request arrives; disarmed when that request's headers
are complete. When it fires the connection is closed: no request was read, so
there is nothing to answer. The body has its own deadline, in
`RequestLimitsMiddleware`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.settings import get_settings

logger = logging.getLogger(__name__)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose headers are late."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Read here, not passed in: uvicorn builds the protocol in each worker
        # process, where the app factory reads the same settings the same way.
        self.header_read_timeout = get_settings().header_read_timeout_seconds
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A request on a kept-alive connection starts its own deadline; the first
        # request's started when the connection opened.
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_read_timeout, self._header_deadline_passed
            )

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            logger.info(
                "closed a connection from %s: request headers not complete within %s s",
                self.client[0] if self.client else "an unknown address",
                self.header_read_timeout,
            )
            self.transport.close()
