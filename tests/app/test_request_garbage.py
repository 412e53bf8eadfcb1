"""A request leaves nothing for the cyclic garbage collector, which stays out of its way.

Garbage in reference cycles is freed only by the collector, whose full
collections stop the event loop; with the heap of a started app to walk they
took 100-180 ms, which was the p99 of a small query under load. Counted here,
not timed: the objects a collection finds after a number of requests, and the
collections that requests in flight start.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from fastapi import FastAPI

from app.settings import Settings
from tests.support.app import running_app
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA

REQUESTS = 20
# bench.run's connections: each has one request in flight at a time.
IN_FLIGHT = 16


async def _post(app: FastAPI, token: str, query: str, variables: dict[str, Any]) -> bytes:
    """One request straight to the ASGI app: no HTTP client to make garbage of its own."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(sent)


async def test_reads_and_writes_leave_no_cyclic_garbage(app: FastAPI, token_for: Any) -> None:
    token = token_for("user-a")
    write = {"input": {"step": 1, "data": STEP_DATA[1]}}
    # given an app that has answered both kinds of request once
    for query, variables in ((COMPLETE_STEP, write), (PROGRESS, {})):
        assert b'"errors"' not in await _post(app, token, query, variables)
    gc.collect()
    gc.disable()
    try:
        # when it answers reads and writes with the collector off
        for _ in range(REQUESTS):
            assert b"currentStep" in await _post(app, token, PROGRESS, {})
            assert b'"userErrors":[]' in await _post(app, token, COMPLETE_STEP, write)
        # then a collection finds nothing: every object went with its request
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_what_the_app_made_while_starting_is_frozen(app: FastAPI) -> None:
    # (the schema, the metadata, the modules: none of it is walked by later collections)
    assert gc.get_freeze_count() > 10_000


async def test_a_stopped_app_gives_the_collector_back_as_it_was(settings: Settings) -> None:
    before = gc.get_threshold()
    async with running_app(settings):
        assert gc.get_threshold() != before
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_requests_in_flight_start_no_collection(app: FastAPI, token_for: Any) -> None:
    tokens = [token_for(f"user-{n}") for n in range(IN_FLIGHT)]
    for token in tokens:
        assert b'"userErrors":[]' in await _post(
            app, token, COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}}
        )
    collections: list[int] = []
    gc.collect()  # what the set-up made is not the requests' to count

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        # when sixteen users' progress requests are answered at once, again and again
        for _ in range(REQUESTS):
            bodies = await asyncio.gather(*(_post(app, t, PROGRESS, {}) for t in tokens))
            assert all(b"currentStep" in body for body in bodies)
    finally:
        gc.callbacks.remove(count)
    # then the collector never stopped them: what they hold fits in its young generation
    assert collections == []
