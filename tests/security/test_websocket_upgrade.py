"""With subscriptions off, a WebSocket upgrade is refused cleanly.

Against `onboarding-api serve` with `ONBOARDING_SUBSCRIPTIONS=false`, with the
`websockets` client library. Before, every upgrade was a 500 and a 4.8 KB
traceback in the log; now the handshake is answered 403 and never accepted.
With subscriptions on: tests/security/test_websocket_input.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.server_process import Service, clean_environment, service

ATTEMPTS = 100
AT_ONCE = 10


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Service]:
    environment = clean_environment(
        {"ONBOARDING_DATA_DIR": str(tmp_path), "ONBOARDING_SUBSCRIPTIONS": "false"}
    )
    with service(tmp_path, environment) as running:
        yield running


async def attempt_upgrade(url: str, subprotocols: list[str]) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=subprotocols or None):  # type: ignore[arg-type]
            pass
    return refused.value


async def test_anonymous_upgrades_are_refused_with_a_403_and_no_traceback(
    served: Service, record_property: Callable[[str, object], None]
) -> None:
    url = served.base_url.replace("http://", "ws://") + "/graphql"
    log_bytes_before = served.stderr_path.stat().st_size
    # given 100 anonymous clients, half offering the graphql-transport-ws subprotocol
    offers = [["graphql-transport-ws"] if n % 2 else [] for n in range(ATTEMPTS)]
    # when they try to upgrade /graphql to a WebSocket, ten at a time
    refusals: list[InvalidStatus] = []
    for start in range(0, ATTEMPTS, AT_ONCE):
        batch = offers[start : start + AT_ONCE]
        refusals += await asyncio.gather(*(attempt_upgrade(url, offer) for offer in batch))
    # then each handshake is refused with 403, before any WebSocket is accepted
    assert [refusal.response.status_code for refusal in refusals] == [403] * ATTEMPTS
    # and the log holds no traceback and no error; each refusal has a line with its own id
    lines = [json.loads(line) for line in served.stderr_lines()]
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
    assert not [line for line in lines if "Traceback" in json.dumps(line) or "exc_info" in line]
    refused = [line for line in lines if '"WebSocket /graphql" 403' in line["message"]]
    assert len(refused) == ATTEMPTS
    assert len({line["request_id"] for line in refused} - {None}) == ATTEMPTS
    # and the service still answers
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{served.base_url}/healthz")).status_code == 200
    log_bytes = served.stderr_path.stat().st_size - log_bytes_before
    record_property("log_bytes_for_100_upgrades", log_bytes)
    print(f"log written for {ATTEMPTS} refused upgrades: {log_bytes} bytes")
