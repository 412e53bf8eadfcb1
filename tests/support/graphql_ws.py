"""The app under a real uvicorn, and a graphql-transport-ws client to talk to it like a frontend.

The client is the `websockets` library speaking the protocol by hand
(github.com/enisdenjo/graphql-ws, PROTOCOL.md), so a test can also send what
no well-behaved client would.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.cli import WEBSOCKET_PROTOCOL
from app.factory import create_app
from app.settings import Settings
from tests.support.server_process import free_port

PROTOCOL = "graphql-transport-ws"
WAIT_SECONDS = 20.0


@contextmanager
def uvicorn_thread(settings: Settings, **options: Any) -> Iterator[tuple[str, uvicorn.Server]]:
    """The app for `settings` under uvicorn with `options`, in a thread; its base URL, the server.

    In a thread, uvicorn leaves signals alone; `server.should_exit = True` is
    what its SIGTERM handler does.
    """
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def uvicorn_serving(settings: Settings) -> Iterator[str]:
    """The app for `settings` under uvicorn (in a thread, as `serve` runs it); its base URL."""
    with uvicorn_thread(
        settings, ws=WEBSOCKET_PROTOCOL, ws_max_size=settings.websocket_max_message_bytes
    ) as (base_url, _):
        yield base_url


def websocket_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


@dataclass(frozen=True)
class Closed:
    code: int | None
    reason: str


class GraphQLWS:
    """One graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: object) -> None:
        await self.connection.send(json.dumps(message))

    async def send_raw(self, data: str | bytes) -> None:
        await self.connection.send(data)

    async def receive(self, within: float = WAIT_SECONDS) -> dict[str, Any]:
        """The next message; fails the test if the socket closes or nothing comes in time."""
        async with asyncio.timeout(within):
            text = await self.connection.recv()
        message: dict[str, Any] = json.loads(text)
        return message

    async def init(self, token: str | None = None, **payload: object) -> dict[str, Any]:
        """`connection_init` with the token as graphql-ws docs show; the server's answer."""
        if token is not None:
            payload = {"Authorization": f"Bearer {token}", **payload}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def next_data(self, operation_id: str) -> dict[str, Any]:
        """The `data` of the next message, which must be a `next` without errors for the id."""
        message = await self.receive()
        assert message["type"] == "next", message
        assert message["id"] == operation_id, message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def closed(self, within: float = WAIT_SECONDS) -> Closed:
        """How the server closed the socket; fails the test if it stays open."""
        async with asyncio.timeout(within):
            try:
                while True:
                    await self.connection.recv()
            except ConnectionClosed:
                pass
        return Closed(self.connection.close_code, self.connection.close_reason or "")


@asynccontextmanager
async def graphql_ws(
    base_url: str, subprotocols: Sequence[str] | None = (PROTOCOL,)
) -> AsyncIterator[GraphQLWS]:
    offered = [Subprotocol(name) for name in subprotocols] if subprotocols else None
    async with connect(websocket_url(base_url), subprotocols=offered, max_size=None) as socket:
        yield GraphQLWS(socket)


@asynccontextmanager
async def signed_in(base_url: str, token: str) -> AsyncIterator[GraphQLWS]:
    """A connection acknowledged for the token's user."""
    async with graphql_ws(base_url) as client:
        ack = await client.init(token)
        assert ack == {"type": "connection_ack"}, ack
        yield client
