"""Issue 13: a change made in one process reaches subscribers in another (PostgreSQL NOTIFY).

Two `onboarding-api serve` processes on one PostgreSQL database, as two
instances behind a load balancer would run: a subscriber on the first, the
changes made through the second.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from auth import DevIssuer
from tests.support.discovery import DISCOVER_JOB
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import execute_over_http
from tests.support.graphql_ws import signed_in
from tests.support.onboarding import COMPLETE_STEP, STEP_DATA
from tests.support.server_process import clean_environment, serve

EXA_KEY = "across-processes-exa-key"
PROGRESS = "subscription { onboardingProgress { currentStep completionPercentage } }"
DISCOVERY = """
subscription ($id: ID!) { competitorDiscovery(id: $id) { status competitors { url } } }
"""


@dataclass
class TwoProcesses:
    first: str
    second: str
    issuer: DevIssuer
    fake: FakeExa
    gate: threading.Event


@pytest.fixture
def two_processes(postgres_database_url: str, tmp_path: Path) -> Iterator[TwoProcesses]:
    """Two served processes on one PostgreSQL database, sharing a dev issuer and a fake Exa
    that holds its answers back until `gate` is set."""
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(api_key=EXA_KEY, gate=gate)) as fake:
        environment = clean_environment(
            {
                "ONBOARDING_DATABASE_URL": postgres_database_url,
                "ONBOARDING_DATA_DIR": str(tmp_path),
                "ONBOARDING_COMPETITOR_PROVIDER": "exa",
                "EXA_API_KEY": EXA_KEY,
                "ONBOARDING_EXA_BASE_URL": fake.base_url,
            }
        )
        issuer = DevIssuer.load_or_create(tmp_path)
        with serve(tmp_path, environment) as first, serve(tmp_path, environment) as second:
            yield TwoProcesses(first, second, issuer, fake, gate)
            gate.set()


async def test_a_step_completed_through_one_process_is_pushed_by_the_other(
    two_processes: TwoProcesses,
) -> None:
    token = two_processes.issuer.mint("traveller")
    async with (
        signed_in(two_processes.first, token) as subscriber,
        httpx.AsyncClient(timeout=30) as http,
    ):
        # given a subscriber to the user's progress on the first process
        await subscriber.subscribe("p", PROGRESS)
        first = await subscriber.next_data("p")
        assert first == {"onboardingProgress": {"currentStep": 1, "completionPercentage": 0.0}}
        # when the same user completes step 1 through the second process (another device)
        variables = {"input": {"step": 1, "data": STEP_DATA[1]}}
        await execute_over_http(http, two_processes.second, token, COMPLETE_STEP, variables)
        # then the first process pushes the new progress to the subscriber
        pushed = await subscriber.next_data("p")
        assert pushed == {"onboardingProgress": {"currentStep": 2, "completionPercentage": 16.7}}


async def test_a_discovery_run_by_one_process_is_followed_to_completed_on_the_other(
    two_processes: TwoProcesses,
) -> None:
    token = two_processes.issuer.mint("traveller")
    async with httpx.AsyncClient(timeout=30) as http:
        # given a discovery started through the second process, whose job runs there
        variables = {"input": {"userUrl": "https://shop.example.com", "wait": False}}
        data = await execute_over_http(http, two_processes.second, token, DISCOVER_JOB, variables)
        discovery_id = data["discoverCompetitors"]["discovery"]["id"]
        deadline = time.monotonic() + 30
        while two_processes.fake.in_flight("/findSimilar") == 0:
            assert time.monotonic() < deadline, "the provider was never asked"
            await asyncio.sleep(0.02)
        async with signed_in(two_processes.first, token) as subscriber:
            # when the user follows it through the first process
            await subscriber.subscribe("d", DISCOVERY, {"id": discovery_id})
            running = await subscriber.next_data("d")
            assert running == {"competitorDiscovery": {"status": "RUNNING", "competitors": []}}
            # and the provider answers the second process
            two_processes.gate.set()
            # then the first process pushes COMPLETED, with the results, and completes
            done = await subscriber.next_data("d")
            assert done["competitorDiscovery"]["status"] == "COMPLETED"
            assert len(done["competitorDiscovery"]["competitors"]) == 25
            assert await subscriber.receive() == {"id": "d", "type": "complete"}
