"""With `serve --workers 2`, every scrape reads the service's total, and keeps it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from auth import DevIssuer
from tests.reliability.metrics_text import sample
from tests.support.server_process import Service, clean_environment, service

LEGACY = 'query Legacy { onboardingProgress(sessionId: "s-1") { currentStep } }'
COORDINATE = "Query.onboardingProgress(sessionId:)"
USAGE = "onboarding_deprecated_usage_total"
REQUESTS = "onboarding_graphql_requests_total"
LATENCY = "onboarding_graphql_request_duration_seconds_count"
QUERIES = 200
SCRAPES = 20
STARTED = "Application startup complete."


async def _legacy_queries(base_url: str, token: str, count: int) -> None:
    # No keep-alive: every request is a new connection, for whichever worker accepts it.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(8)

        async def one() -> None:
            async with semaphore:
                response = await client.post(
                    "/graphql",
                    json={"query": LEGACY},
                    headers={
                        "authorization": f"Bearer {token}",
                        "apollographql-client-name": "web-legacy",
                    },
                )
                assert response.status_code == 200, response.text
                assert "errors" not in response.json()

        await asyncio.gather(*(one() for _ in range(count)))


async def _scrapes(base_url: str) -> list[tuple[float | None, float | None, float | None]]:
    """(deprecated uses, requests, latency observations) as each of 20 scrapes reads them."""
    limits = httpx.Limits(max_keepalive_connections=0)
    read = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        for _ in range(SCRAPES):
            text = (await client.get("/metrics")).text
            read.append(
                (
                    sample(text, USAGE, coordinate=COORDINATE, client="web-legacy"),
                    sample(text, REQUESTS, operation="Legacy", outcome="success"),
                    sample(text, LATENCY, operation="Legacy"),
                )
            )
    return read


async def _all_workers_started(running: Service, workers: int) -> None:
    """Until each worker has logged that its app started (the first one answers /healthz)."""
    async with asyncio.timeout(120):
        while True:
            started = [line for line in running.stderr_lines() if STARTED in line]
            if len(started) >= workers:
                return
            await asyncio.sleep(0.2)


def _uses_per_worker(directory: Path) -> dict[int, float]:
    """Each worker's own count of the deprecated use, read from its file alone."""
    shares = {}
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):  # type: ignore[no-untyped-call]
            for found in metric.samples:
                if found.name == USAGE:
                    shares[int(path.stem.rpartition("_")[2])] = found.value
    return shares


async def test_every_scrape_of_two_workers_reads_the_total_and_never_less(
    tmp_path: Path,
) -> None:
    # given `serve --workers 2`, its metrics directory set so the test can look in
    metrics_dir = tmp_path / "metrics"
    environment = clean_environment(
        {"ONBOARDING_DATA_DIR": str(tmp_path / "data"), "ONBOARDING_METRICS_DIR": str(metrics_dir)}
    )
    token = DevIssuer.load_or_create(tmp_path / "data").mint("legacy-user")
    with service(tmp_path, environment, workers=2) as running:
        await _all_workers_started(running, 2)
        # when an old client sends 200 queries with sessionId, over fresh connections
        await _legacy_queries(running.base_url, token, QUERIES)
        # then both workers served some of them
        shares = _uses_per_worker(metrics_dir)
        assert len(shares) == 2, shares
        assert all(share > 0 for share in shares.values()), shares
        assert sum(shares.values()) == QUERIES
        # and each of 20 scrapes, whichever worker answers it, reads all 200
        for scrape in await _scrapes(running.base_url):
            assert scrape == (QUERIES, QUERIES, QUERIES)
        # when one worker is killed outright (its replacement starts from nothing)
        os.kill(min(shares), signal.SIGKILL)
        # then no scrape reads less: the dead worker's counts are part of the total
        for scrape in await _scrapes(running.base_url):
            assert scrape == (QUERIES, QUERIES, QUERIES)
        # and what is served next adds to it
        await _legacy_queries(running.base_url, token, 20)
        for scrape in await _scrapes(running.base_url):
            assert scrape == (QUERIES + 20, QUERIES + 20, QUERIES + 20)
