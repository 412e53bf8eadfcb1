"""Issue 10 point 12, with subscriptions on: no WebSocket input produces a traceback.

Against `onboarding-api serve` with its JSON log: every hostile frame a client
can send (binary, not JSON, not a protocol message, unrepresentable JSON,
nested too deeply, too large, invalid UTF-8, messages before `connection_init`,
duplicate ids, a second init, wrong subprotocols, a client that vanishes
mid-subscription) closes that socket with the protocol's code, and the log
holds no ERROR line and no traceback. The service goes on serving.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from auth import DevIssuer
from tests.support.graphql_ws import GraphQLWS, graphql_ws
from tests.support.server_process import Service, clean_environment, service

MAX_MESSAGE_BYTES = 64 * 1024
PROGRESS = "subscription { onboardingProgress { currentStep } }"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, DevIssuer]]:
    directory = tmp_path_factory.mktemp("websocket-input")
    environment = clean_environment(
        {"ONBOARDING_DATA_DIR": str(directory), "ONBOARDING_WEBSOCKET_INIT_TIMEOUT_SECONDS": "2"}
    )
    with service(directory, environment) as running:
        yield running, DevIssuer.load_or_create(directory)


def subscribe(operation_id: object = "1", **payload: Any) -> dict[str, Any]:
    return {"id": operation_id, "type": "subscribe", "payload": {"query": PROGRESS, **payload}}


# What a client sends after the handshake (None: nothing), whether it first
# initialises with a good token, and the close code it must get.
HOSTILE: dict[str, tuple[bool, list[str | bytes | dict[str, Any]], int]] = {
    "binary frame": (False, [b"\x00\x01\x02"], 4400),
    "not JSON": (False, ["garbage{"], 4400),
    "JSON null": (False, ["null"], 4400),
    "JSON list": (False, ["[1, 2]"], 4400),
    "JSON string": (False, ['"connection_init"'], 4400),
    "no type": (False, [{}], 4400),
    "type not a string": (False, [{"type": 5}], 4400),
    "unknown type": (False, [{"type": "start"}], 4400),
    "a server's message": (False, [{"type": "next", "id": "1", "payload": {}}], 4400),
    "NaN": (False, ['{"type": "ping", "payload": {"x": NaN}}'], 4400),
    "number too large": (False, ['{"type": "ping", "payload": {"x": 1e400}}'], 4400),
    "lone surrogate": (False, ['{"type": "ping", "payload": {"x": "\\ud800"}}'], 4400),
    "nested too deeply": (False, ["[" * 30_000 + "]" * 30_000], 4400),
    "init payload a string": (False, [{"type": "connection_init", "payload": "token"}], 4400),
    "subscribe before init": (False, [subscribe()], 4401),
    "second init": (True, [{"type": "connection_init", "payload": {}}], 4429),
    "payload a string": (True, [{"id": "1", "type": "subscribe", "payload": "x"}], 4400),
    "no payload": (True, [{"id": "1", "type": "subscribe"}], 4400),
    "id a number": (True, [subscribe(1)], 4400),
    "id empty": (True, [subscribe("")], 4400),
    "id too long": (True, [subscribe("x" * 10_000)], 4400),
    "query a number": (True, [subscribe(query=1)], 4400),
    "variables a list": (True, [subscribe(variables=[1])], 4400),
    "operationName an object": (True, [subscribe(operationName={})], 4400),
    "complete without id": (True, [{"type": "complete"}], 4400),
    "duplicate id": (True, [subscribe("same" * 30), subscribe("same" * 30)], 4409),
    "too large": (True, ["x" * (MAX_MESSAGE_BYTES + 1)], 1009),
}


async def send_all(client: GraphQLWS, frames: list[str | bytes | dict[str, Any]]) -> None:
    for frame in frames:
        if isinstance(frame, dict):
            await client.send(frame)
        else:
            await client.send_raw(frame)


async def test_hostile_frames_close_the_socket_with_the_protocols_code_and_log_no_traceback(
    served: tuple[Service, DevIssuer],
) -> None:
    running, issuer = served
    token = issuer.mint("hostile-user")
    log_bytes_before = running.stderr_path.stat().st_size
    codes: dict[str, int | None] = {}
    for name, (initialise, frames, _) in HOSTILE.items():
        async with graphql_ws(running.base_url) as client:
            # given a socket (acknowledged, for the cases that need it)
            if initialise:
                assert await client.init(token) == {"type": "connection_ack"}
            # when the client sends the hostile frames
            await send_all(client, frames)
            codes[name] = (await client.closed()).code
    # then each socket was closed with the protocol's code
    assert codes == {name: code for name, (_, _, code) in HOSTILE.items()}
    await assert_no_errors_logged(running, log_bytes_before)


async def test_odd_handshakes_and_clients_that_vanish_log_no_traceback(
    served: tuple[Service, DevIssuer],
) -> None:
    running, issuer = served
    log_bytes_before = running.stderr_path.stat().st_size
    # a client offering only the legacy protocol, or none, is told which to speak
    for offered in (["graphql-ws"], None):
        async with graphql_ws(running.base_url, offered) as client:
            closed = await client.closed()
        assert closed.code == 4406
        assert "graphql-transport-ws" in closed.reason
    # a client that never initialises is closed when the wait is over
    async with graphql_ws(running.base_url) as client:
        assert (await client.closed()).code == 4408
    # invalid UTF-8 in a text frame is refused by the server itself
    async with graphql_ws(running.base_url) as client:
        await client.connection.send(b"\xff\xfe\xfd", text=True)
        assert (await client.closed()).code == 1007
    # before the acknowledgement, pings are answered and completes of nothing ignored
    async with graphql_ws(running.base_url) as client:
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
        await client.send({"type": "complete", "id": "nothing"})
        await client.send({"type": "pong"})
        assert await client.init(issuer.mint("polite-user")) == {"type": "connection_ack"}

    # clients that vanish mid-subscription, without a close frame, many at once
    async def vanish() -> None:
        async with graphql_ws(running.base_url) as client:
            await client.init(issuer.mint("vanishing-user"))
            await client.send(subscribe("v"))
            await client.receive()
            client.connection.transport.abort()

    await asyncio.gather(*(vanish() for _ in range(5)))
    # then the service answers, and logged no error
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{running.base_url}/healthz")).status_code == 200
    await assert_no_errors_logged(running, log_bytes_before)


async def assert_no_errors_logged(running: Service, since_byte: int) -> None:
    await asyncio.sleep(0.5)  # lines about the last sockets are written as they close
    with running.stderr_path.open("rb") as log:
        log.seek(since_byte)
        lines = [json.loads(line) for line in log.read().decode().splitlines() if line.strip()]
    assert lines, "the service logged the connections"
    assert [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}] == []
    assert [line for line in lines if "Traceback" in json.dumps(line) or "exc_info" in line] == []
