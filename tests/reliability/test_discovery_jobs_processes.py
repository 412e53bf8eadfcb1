"""Discovery jobs across real `onboarding-api serve` processes sharing one database.

Single flight across processes, a job surviving its requester, its process's
SIGKILL and SIGTERM. The fake Exa holds its answers until the test opens its
`gate`, so every step is ordered by what the provider has seen, not by time;
the only deadlines are liveness bounds (the takeover bound plus slack).
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from auth import DevIssuer
from db.engine import create_engine
from db.models import competitor_discoveries
from resolvers.global_ids import discovery_key
from tests.reliability.metrics_text import sample
from tests.support.discovery import DISCOVER_JOB, DISCOVERY_JOB
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.server_process import Service, clean_environment, service

LEASE_SECONDS = 2.0
SWEEP_SECONDS = 0.5
TAKEOVER_BOUND = LEASE_SECONDS + SWEEP_SECONDS
# A loaded CI machine starts processes and answers requests slowly: a liveness bound.
SLACK_SECONDS = 15.0
INPUT = {"userUrl": "https://acme-shop.example.com", "numResults": 2}
JOBS_METRIC = "onboarding_discovery_jobs_total"


def job_environment(
    database_url: str, data_dir: Path, fake: FakeExa, **extra: str
) -> dict[str, str]:
    return clean_environment(
        {
            "ONBOARDING_DATABASE_URL": database_url,
            "ONBOARDING_DATA_DIR": str(data_dir),
            "ONBOARDING_COMPETITOR_PROVIDER": "exa",
            "EXA_API_KEY": fake.config.api_key,
            "ONBOARDING_EXA_BASE_URL": fake.base_url,
            "ONBOARDING_DISCOVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "ONBOARDING_DISCOVERY_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "ONBOARDING_DISCOVERY_POLL_SECONDS": "0.1",
            **extra,
        }
    )


async def post(
    client: httpx.AsyncClient, base_url: str, token: str, query: str, variables: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )


async def discover(
    client: httpx.AsyncClient, base_url: str, token: str, **fields: Any
) -> dict[str, Any]:
    response = await post(client, base_url, token, DISCOVER_JOB, {"input": {**INPUT, **fields}})
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["discoverCompetitors"])


async def discovery(
    client: httpx.AsyncClient, base_url: str, token: str, discovery_id: str
) -> dict[str, Any]:
    response = await post(client, base_url, token, DISCOVERY_JOB, {"id": discovery_id})
    return dict(response.json()["data"]["competitorDiscovery"])


async def until(condition: Callable[[], bool], *, within: float) -> float:
    """Wait for `condition`; how long it took. Fails the test after `within` seconds."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "the condition never came true"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def until_final(
    client: httpx.AsyncClient, base_url: str, token: str, discovery_id: str
) -> dict[str, Any]:
    deadline = time.monotonic() + SLACK_SECONDS
    while True:
        found = await discovery(client, base_url, token, discovery_id)
        if found["status"] in ("COMPLETED", "FAILED"):
            return found
        assert time.monotonic() < deadline, f"still {found['status']}"
        await asyncio.sleep(0.05)


async def stored_row(database_url: str, global_id: str) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (
                await connection.execute(
                    select(competitor_discoveries).where(
                        competitor_discoveries.c.id == discovery_key(global_id)
                    )
                )
            ).one()
    finally:
        await engine.dispose()


def logged(running: Service) -> list[dict[str, Any]]:
    return [json.loads(line) for line in running.stderr_lines()]


async def test_identical_requests_through_two_processes_make_one_provider_call(
    postgres_database_url: str, tmp_path: Path
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(gate=gate)) as fake:
        environment = job_environment(postgres_database_url, tmp_path, fake)
        token = DevIssuer.load_or_create(tmp_path).mint("two-tabs")
        # given two service processes on one PostgreSQL database
        with service(tmp_path, environment) as first, service(tmp_path, environment) as second:
            async with httpx.AsyncClient(timeout=60) as client:
                # when ten identical requests go to them alternately while the provider works
                requests = [
                    asyncio.create_task(discover(client, (first, second)[n % 2].base_url, token))
                    for n in range(10)
                ]
                await until(lambda: fake.in_flight("/search") > 0, within=SLACK_SECONDS)
                await asyncio.sleep(0.5)  # stragglers arrive while the job runs
                gate.set()
                payloads = await asyncio.gather(*requests)
    # then every request answers the same finished discovery, from one provider call
    assert all(payload["userErrors"] == [] for payload in payloads)
    assert len({payload["discovery"]["id"] for payload in payloads}) == 1
    assert {payload["discovery"]["status"] for payload in payloads} == {"COMPLETED"}
    assert len(fake.calls("/search")) == 1


async def test_a_client_that_disconnects_does_not_stop_the_job(
    database_url: str, tmp_path: Path
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(gate=gate)) as fake:
        environment = job_environment(database_url, tmp_path, fake)
        token = DevIssuer.load_or_create(tmp_path).mint("impatient")
        with service(tmp_path, environment) as running:
            # given a client waiting for its discovery while the provider works
            leaving = httpx.AsyncClient(timeout=60)
            waiting = asyncio.create_task(discover(leaving, running.base_url, token))
            await until(lambda: fake.in_flight("/search") > 0, within=SLACK_SECONDS)
            # when the client hangs up, and only then the provider answers
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            await leaving.aclose()
            gate.set()
            # then the job still finished and stored its result
            async with httpx.AsyncClient(timeout=60) as client:
                history = await post(
                    client,
                    running.base_url,
                    token,
                    "{ competitorDiscoveries { edges { node { id } } } }",
                    {},
                )
                [edge] = history.json()["data"]["competitorDiscoveries"]["edges"]
                found = await until_final(client, running.base_url, token, edge["node"]["id"])
    assert found["status"] == "COMPLETED"
    assert len(found["competitors"]) == 2
    assert len(fake.calls("/search")) == 1


async def test_a_job_whose_process_is_killed_is_taken_over_within_the_bound(
    database_url: str, tmp_path: Path
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(gate=gate)) as fake:
        environment = job_environment(database_url, tmp_path, fake)
        token = DevIssuer.load_or_create(tmp_path).mint("unlucky")
        with service(tmp_path, environment) as doomed, service(tmp_path, environment) as survivor:
            async with httpx.AsyncClient(timeout=60) as client:
                # given a job running in one process, waiting on the provider
                started = (await discover(client, doomed.base_url, token, wait=False))["discovery"]
                await until(lambda: len(fake.calls("/search")) == 1, within=SLACK_SECONDS)
                # when that process is killed outright
                doomed.process.send_signal(signal.SIGKILL)
                doomed.process.wait(timeout=10)
                # then the other process takes the job over within the lease and a sweep
                took = await until(
                    lambda: len(fake.calls("/search")) == 2, within=TAKEOVER_BOUND + SLACK_SECONDS
                )
                # and, the provider answering, completes it under the same id
                gate.set()
                final = await until_final(client, survivor.base_url, token, started["id"])
                metrics = (await client.get(f"{survivor.base_url}/metrics")).text
    assert final["status"] == "COMPLETED"
    assert len(final["competitors"]) == 2
    assert sample(metrics, JOBS_METRIC, event="taken_over") == 1
    assert (await stored_row(database_url, started["id"])).attempts == 2
    print(f"taken over {took:.2f} s after SIGKILL (bound {TAKEOVER_BOUND:.1f} s)")


async def test_sigterm_answers_a_waiting_client_with_graphql_even_if_the_provider_is_slower(
    database_url: str, tmp_path: Path
) -> None:
    # given a provider that never answers, a 2 s provider budget and a grace of 2 + 2 s
    with run_fake_exa(FakeExaConfig(gate=threading.Event())) as fake:
        environment = job_environment(
            database_url,
            tmp_path,
            fake,
            ONBOARDING_PROVIDER_TIMEOUT_SECONDS="2",
            ONBOARDING_SHUTDOWN_MARGIN_SECONDS="2",
            ONBOARDING_SHUTDOWN_GRACE_SECONDS="4",
        )
        token = DevIssuer.load_or_create(tmp_path).mint("waiting")
        with service(tmp_path, environment) as running:
            async with httpx.AsyncClient(timeout=60) as client:
                # and a client waiting for a discovery the provider is working on
                waiting = asyncio.create_task(
                    post(client, running.base_url, token, DISCOVER_JOB, {"input": INPUT})
                )
                await until(lambda: fake.in_flight("/search") > 0, within=SLACK_SECONDS)
                # when the process is told to stop
                running.terminate()
                response = await waiting
            exit_code = running.process.wait(timeout=30)
    # then the client gets a GraphQL answer (the provider's budget ran out), not a 500
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()["data"]["discoverCompetitors"]
    assert payload["discovery"] is None
    assert [error["code"] for error in payload["userErrors"]] == ["PROVIDER_UNAVAILABLE"]
    # and the process stopped gracefully, within its grace
    assert exit_code == -signal.SIGTERM
    assert not any("Cancel" in line["message"] for line in logged(running))


async def test_sigterm_hands_a_detached_job_to_another_process(
    database_url: str, tmp_path: Path
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(gate=gate)) as fake:
        environment = job_environment(database_url, tmp_path, fake)
        token = DevIssuer.load_or_create(tmp_path).mint("redeployed")
        with service(tmp_path, environment) as leaving, service(tmp_path, environment) as staying:
            async with httpx.AsyncClient(timeout=60) as client:
                # given a detached job running in one process
                started = (await discover(client, leaving.base_url, token, wait=False))["discovery"]
                await until(lambda: len(fake.calls("/search")) == 1, within=SLACK_SECONDS)
                # when that process is told to stop, and does
                leaving.terminate()
                assert leaving.process.wait(timeout=30) == -signal.SIGTERM
                # then the other process takes the job over at its next sweep
                await until(lambda: len(fake.calls("/search")) == 2, within=SLACK_SECONDS)
                gate.set()
                final = await until_final(client, staying.base_url, token, started["id"])
                metrics = (await client.get(f"{staying.base_url}/metrics")).text
    assert final["status"] == "COMPLETED"
    assert sample(metrics, JOBS_METRIC, event="taken_over") == 1
    assert any(line["message"].startswith("handed discovery job") for line in logged(leaving))
