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
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
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
from tests.support.waiting import until

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


@dataclass
class HeldProvider:
    """Service processes on one database, asking a fake Exa that holds every answer
    until `gate` is set; `token` is the test user's."""

    fake: FakeExa
    gate: threading.Event
    token: str
    services: tuple[Service, ...]


@contextmanager
def held_provider(
    database_url: str, tmp_path: Path, user: str, *, processes: int
) -> Iterator[HeldProvider]:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(gate=gate)) as fake, ExitStack() as stack:
        environment = job_environment(database_url, tmp_path, fake)
        # Before the services start, so they all load the key pair it makes.
        token = DevIssuer.load_or_create(tmp_path).mint(user)
        services = tuple(
            stack.enter_context(service(tmp_path, environment)) for _ in range(processes)
        )
        yield HeldProvider(fake, gate, token, services)


@dataclass
class RunningJob:
    """A detached job `holder` runs on the held provider; `other` serves the same database."""

    provider: HeldProvider
    holder: Service
    other: Service
    client: httpx.AsyncClient
    discovery_id: str


@asynccontextmanager
async def job_running_in_one_of_two(
    database_url: str, tmp_path: Path, user: str
) -> AsyncIterator[RunningJob]:
    with held_provider(database_url, tmp_path, user, processes=2) as held:
        holder, other = held.services
        async with httpx.AsyncClient(timeout=60) as client:
            started = (await discover(client, holder.base_url, held.token, wait=False))["discovery"]
            await until(lambda: len(held.fake.calls("/search")) == 1, within=SLACK_SECONDS)
            yield RunningJob(held, holder, other, client, started["id"])


async def completed_by_the_other(job: RunningJob) -> tuple[dict[str, Any], str]:
    """Let the provider answer; the job as `other` finishes it, and `other`'s metrics."""
    job.provider.gate.set()
    final = await until_final(job.client, job.other.base_url, job.provider.token, job.discovery_id)
    metrics = (await job.client.get(f"{job.other.base_url}/metrics")).text
    return final, metrics


def logged(running: Service) -> list[dict[str, Any]]:
    return [json.loads(line) for line in running.stderr_lines()]


async def test_identical_requests_through_two_processes_make_one_provider_call(
    postgres_database_url: str, tmp_path: Path
) -> None:
    # given two service processes on one PostgreSQL database
    with held_provider(postgres_database_url, tmp_path, "two-tabs", processes=2) as held:
        first, second = held.services
        async with httpx.AsyncClient(timeout=60) as client:
            # when ten identical requests go to them alternately while the provider works
            requests = [
                asyncio.create_task(discover(client, (first, second)[n % 2].base_url, held.token))
                for n in range(10)
            ]
            await until(lambda: held.fake.in_flight("/search") > 0, within=SLACK_SECONDS)
            await asyncio.sleep(0.5)  # stragglers arrive while the job runs
            held.gate.set()
            payloads = await asyncio.gather(*requests)
    # then every request answers the same finished discovery, from one provider call
    assert all(payload["userErrors"] == [] for payload in payloads)
    assert len({payload["discovery"]["id"] for payload in payloads}) == 1
    assert {payload["discovery"]["status"] for payload in payloads} == {"COMPLETED"}
    assert len(held.fake.calls("/search")) == 1


async def test_a_client_that_disconnects_does_not_stop_the_job(
    database_url: str, tmp_path: Path
) -> None:
    with held_provider(database_url, tmp_path, "impatient", processes=1) as held:
        [running] = held.services
        # given a client waiting for its discovery while the provider works
        leaving = httpx.AsyncClient(timeout=60)
        waiting = asyncio.create_task(discover(leaving, running.base_url, held.token))
        await until(lambda: held.fake.in_flight("/search") > 0, within=SLACK_SECONDS)
        # when the client hangs up, and only then the provider answers
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await leaving.aclose()
        held.gate.set()
        # then the job still finished and stored its result
        async with httpx.AsyncClient(timeout=60) as client:
            history = await post(
                client,
                running.base_url,
                held.token,
                "{ competitorDiscoveries { edges { node { id } } } }",
                {},
            )
            [edge] = history.json()["data"]["competitorDiscoveries"]["edges"]
            found = await until_final(client, running.base_url, held.token, edge["node"]["id"])
    assert found["status"] == "COMPLETED"
    assert len(found["competitors"]) == 2
    assert len(held.fake.calls("/search")) == 1


async def test_a_job_whose_process_is_killed_is_taken_over_within_the_bound(
    database_url: str, tmp_path: Path
) -> None:
    # given a job running in one process, waiting on the provider
    async with job_running_in_one_of_two(database_url, tmp_path, "unlucky") as job:
        # when that process is killed outright
        job.holder.process.send_signal(signal.SIGKILL)
        job.holder.process.wait(timeout=10)
        # then the other process takes the job over within the lease and a sweep
        took = await until(
            lambda: len(job.provider.fake.calls("/search")) == 2,
            within=TAKEOVER_BOUND + SLACK_SECONDS,
        )
        # and, the provider answering, completes it under the same id
        final, metrics = await completed_by_the_other(job)
    assert final["status"] == "COMPLETED"
    assert len(final["competitors"]) == 2
    assert sample(metrics, JOBS_METRIC, event="taken_over") == 1
    assert (await stored_row(database_url, job.discovery_id)).attempts == 2
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
    # given a detached job running in one process
    async with job_running_in_one_of_two(database_url, tmp_path, "redeployed") as job:
        # when that process is told to stop, and does
        job.holder.terminate()
        assert job.holder.process.wait(timeout=30) == -signal.SIGTERM
        # then the other process takes the job over at its next sweep
        await until(lambda: len(job.provider.fake.calls("/search")) == 2, within=SLACK_SECONDS)
        final, metrics = await completed_by_the_other(job)
    assert final["status"] == "COMPLETED"
    assert sample(metrics, JOBS_METRIC, event="taken_over") == 1
    assert any(line["message"].startswith("handed discovery job") for line in logged(job.holder))
