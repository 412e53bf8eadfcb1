"""uvicorn's WebSocket protocol, refusing a text message that is not UTF-8 without a traceback.

uvicorn (checked on 0.54) picks `WebSocketsSansIOProtocol` when `websockets` is
installed. The sans-I/O `websockets` parser leaves text frames undecoded, and
uvicorn decodes them itself: a client that sends invalid UTF-8 in a text
message gets the right close (1007) but makes uvicorn log an ERROR with a
traceback, once per message. This protocol checks the message first and
closes the same way, with one INFO line.
"""

from __future__ import annotations

import logging

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode

logger = logging.getLogger(__name__)


class UTF8CheckingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol; invalid UTF-8 is a client error, not ours."""

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                logger.info("closed a WebSocket: a text message that is not UTF-8")
                self.conn.send_close(CloseCode.INVALID_DATA, "Text messages must be UTF-8")
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()
