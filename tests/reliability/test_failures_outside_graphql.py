"""A failure outside GraphQL answers JSON with its request id, and logs under that id.

Two real failures, on a real server: a request still running when a shutdown's
grace period ends (uvicorn cancels it; it used to answer HTTP 500 `text/plain`
with no id, and uvicorn's traceback under `request_id: null`), and a client
that hangs up halfway through its body (a 5.7 KB traceback under
`request_id: null` before).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.logging_config import RequestIdFilter
from app.settings import Settings
from tests.support.discovery import DISCOVER
from tests.support.fake_exa import FakeExaConfig, run_fake_exa
from tests.support.graphql_ws import uvicorn_thread
from tests.support.server_process import Service, clean_environment, service

GRACE_SECONDS = 1
PROVIDER_DELAY_SECONDS = 60.0


# Both failures happen before or after the database is involved.
pytestmark = pytest.mark.sqlite_only


async def test_a_request_cut_short_by_shutdown_gets_json_503_with_its_id(
    settings: Settings, token_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given a service whose provider takes longer than the shutdown grace
    with run_fake_exa(FakeExaConfig(delay=PROVIDER_DELAY_SECONDS)) as fake:
        settings = settings.model_copy(
            update={
                "competitor_provider": "exa",
                "exa_api_key": SecretStr(fake.config.api_key),
                "exa_base_url": fake.base_url,
                "provider_timeout_seconds": PROVIDER_DELAY_SECONDS * 2,
                # What the settings promise; the server below is given a shorter grace,
                # as an orchestrator that kills early would.
                "shutdown_grace_seconds": PROVIDER_DELAY_SECONDS * 2 + 5,
            }
        )
        # (as the service's log configuration does, every record gets its request's id)
        caplog.handler.addFilter(RequestIdFilter())
        with (
            caplog.at_level(logging.INFO),
            uvicorn_thread(settings, timeout_graceful_shutdown=GRACE_SECONDS) as (
                base_url,
                server,
            ),
        ):
            async with httpx.AsyncClient(timeout=30) as http:
                # and a discovery waiting on that provider
                waiting = asyncio.create_task(
                    http.post(
                        f"{base_url}/graphql",
                        json={"query": DISCOVER, "variables": {"input": {"userUrl": "acme.com"}}},
                        headers={"authorization": f"Bearer {token_for('user-a')}"},
                    )
                )
                while not fake.requests:
                    assert not waiting.done(), waiting.result().text
                    await asyncio.sleep(0.05)
                # when the server is told to stop (what SIGTERM does)
                server.should_exit = True
                response = await waiting
    # then the cut request is answered as a passing unavailability, in JSON, with its id
    request_id = response.headers["x-request-id"]
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "5"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "requestId": request_id}
    # and the server's line about the cancellation, the one with a cause, has that id
    [logged] = [record for record in caplog.records if record.exc_info]
    assert logged.exc_info is not None
    assert logged.exc_info[0] is asyncio.CancelledError
    assert logged.request_id == request_id  # type: ignore[attr-defined]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Service]:
    with service(tmp_path, clean_environment({"ONBOARDING_DATA_DIR": str(tmp_path)})) as running:
        yield running


def test_a_client_leaving_mid_body_leaves_one_line_with_its_id_and_no_traceback(
    served: Service,
) -> None:
    # given a client that names its request and promises a 100-byte body
    port = int(served.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: leaving-client-1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":'
        )
        # when it hangs up after ten bytes
        time.sleep(0.3)
    # then the service logs one line about it, under its id, with no traceback
    deadline = time.monotonic() + 10
    while not (lines := [json.loads(line) for line in served.stderr_lines()]) or not any(
        line.get("request_id") == "leaving-client-1" for line in lines
    ):
        assert time.monotonic() < deadline, lines[-5:]
        time.sleep(0.05)
    about_it = [line for line in lines if line.get("request_id") == "leaving-client-1"]
    assert [line["level"] for line in about_it] == ["INFO"]
    assert "left before sending its whole body" in about_it[0]["message"]
    assert not [line for line in lines if "exc_info" in line or line["level"] == "ERROR"]
    # and the service still answers
    assert httpx.get(f"{served.base_url}/healthz").status_code == 200
