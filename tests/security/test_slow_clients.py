"""Connections that trickle their headers or body are closed, within a bound.

Against `onboarding-api serve` with raw sockets. The service is given 1 s for a
request's headers and 1 s for its body; each client trickles one byte every
0.2 s and would go on for 30 s. A connection counts as closed by the server
only if the server ended it while the client was still trickling.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.server_process import Service, clean_environment, service

HEADER_SECONDS = 1
BODY_SECONDS = 1
DRIP_EVERY = 0.2
CLIENT_GIVES_UP_AFTER = 30.0
CONNECTIONS_PER_KIND = 13  # four kinds: 52 connections at once

REQUEST_LINE = b"POST /graphql HTTP/1.1\r\nHost: localhost\r\n"
BODY_HEAD = (
    REQUEST_LINE + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query": "'
)
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
UNREAD_BODY_HEAD = b"POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n"


@dataclass
class Trickled:
    closed_by_server: bool
    seconds: float
    received: bytes


@pytest.fixture
def slow_client_service(tmp_path: Path) -> Iterator[Service]:
    environment = clean_environment(
        {
            "ONBOARDING_DATA_DIR": str(tmp_path / "data"),
            "ONBOARDING_HEADER_READ_TIMEOUT_SECONDS": str(HEADER_SECONDS),
            "ONBOARDING_BODY_READ_TIMEOUT_SECONDS": str(BODY_SECONDS),
        }
    )
    with service(tmp_path, environment) as running:
        yield running


async def trickle(base_url: str, first: bytes, drip: bytes, *, after: bytes = b"") -> Trickled:
    """Send `first` (and read its answer up to `after`), then one byte of `drip` at a time."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    loop = asyncio.get_running_loop()
    received = b""
    try:
        writer.write(first)
        await writer.drain()
        while after and after not in received:
            received += await reader.read(65536)
        started = loop.time()
        position = 0
        while loop.time() - started < CLIENT_GIVES_UP_AFTER:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), DRIP_EVERY)
            except TimeoutError:
                writer.write(drip[position % len(drip) : position % len(drip) + 1])
                position += 1
                await writer.drain()
                continue
            if not chunk:
                return Trickled(True, loop.time() - started, received)
            received += chunk
        return Trickled(False, loop.time() - started, received)
    except ConnectionResetError:
        return Trickled(True, loop.time() - started, received)
    finally:
        writer.close()


def status_and_body(raw: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, json.loads(body)


async def test_trickling_headers_or_a_body_is_cut_off_within_the_deadline(
    slow_client_service: Service, record_property: Callable[[str, object], None]
) -> None:
    base_url = slow_client_service.base_url
    # given 52 connections: a quarter trickle a first request's headers, a quarter the
    # headers of a second request after a first was answered, a quarter a GraphQL
    # body, a quarter a body to a route that never reads one
    kinds = {
        "headers": [
            trickle(base_url, REQUEST_LINE, b"X-Slow: abcdef\r\n")
            for _ in range(CONNECTIONS_PER_KIND)
        ],
        "headers after a request": [
            trickle(base_url, HEALTH + REQUEST_LINE, b"X-Slow: abcdef\r\n", after=b'"ok"}')
            for _ in range(CONNECTIONS_PER_KIND)
        ],
        "body": [trickle(base_url, BODY_HEAD, b"abcdef") for _ in range(CONNECTIONS_PER_KIND)],
        "body nobody reads": [
            trickle(base_url, UNREAD_BODY_HEAD, b"abcdef") for _ in range(CONNECTIONS_PER_KIND)
        ],
    }
    # when they all trickle at once
    names = [kind for kind, clients in kinds.items() for _ in clients]
    outcomes = await asyncio.gather(*(client for clients in kinds.values() for client in clients))
    results = {
        kind: [outcome for name, outcome in zip(names, outcomes, strict=True) if name == kind]
        for kind in kinds
    }
    # then the server closed every one of them while the client was still trickling
    for kind, outcomes in results.items():
        assert all(outcome.closed_by_server for outcome in outcomes), kind
    # and a trickled header got no answer (no request was read), a trickled body a 408,
    # and a body nobody reads the route's own answer, closing the connection
    for outcome in results["headers"]:
        assert outcome.received == b""
    for outcome in results["headers after a request"]:
        assert outcome.received.startswith(b"HTTP/1.1 200")
        assert outcome.received.count(b"HTTP/1.1") == 1
    for outcome in results["body"]:
        status, headers, body = status_and_body(outcome.received)
        assert status == 408
        assert headers["connection"] == "close"
        assert headers["x-request-id"]
        assert body["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}  # type: ignore[index]
    for outcome in results["body nobody reads"]:
        assert outcome.received.startswith(b"HTTP/1.1 405")
        assert b"\r\nconnection: close\r\n" in outcome.received.lower()
    # and the service still answers, and logged no traceback
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
    logs = slow_client_service.stderr_lines()
    assert not [line for line in logs if "Traceback" in line]
    closed_lines = [line for line in logs if "request headers not complete" in line]
    assert len(closed_lines) == 2 * CONNECTIONS_PER_KIND
    for kind, outcomes in results.items():
        slowest = round(max(outcome.seconds for outcome in outcomes), 2)
        record_property(f"slowest_close_{kind.replace(' ', '_')}_s", slowest)
        print(f"{kind}: closed after at most {slowest} s of trickling")
