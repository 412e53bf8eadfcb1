"""SIGTERM: requests in flight finish, new connections are refused, the pool is closed."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import asyncpg
import httpx

from auth import DevIssuer
from tests.support.databases import _asyncpg_dsn
from tests.support.discovery import DISCOVER
from tests.support.fake_exa import FakeExaConfig, run_fake_exa
from tests.support.server_process import clean_environment, service

PROVIDER_DELAY_SECONDS = 2.0


async def _service_connections(database_url: str) -> int:
    """Sessions on the test's own database other than this one: the service's pool."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return count
    finally:
        await connection.close()


async def _refused(base_url: str) -> bool:
    async with httpx.AsyncClient(timeout=1) as fresh:
        try:
            await fresh.get(f"{base_url}/healthz")
        except httpx.ConnectError:
            return True
        return False


async def test_sigterm_lets_in_flight_requests_finish_and_closes_the_pool(
    postgres_database_url: str, tmp_path: Path
) -> None:
    # given the service on PostgreSQL, its competitor provider slow to answer
    with run_fake_exa(FakeExaConfig(delay=PROVIDER_DELAY_SECONDS)) as fake:
        environment = clean_environment(
            {
                "ONBOARDING_DATABASE_URL": postgres_database_url,
                "ONBOARDING_DATA_DIR": str(tmp_path),
                "ONBOARDING_COMPETITOR_PROVIDER": "exa",
                "EXA_API_KEY": fake.config.api_key,
                "ONBOARDING_EXA_BASE_URL": fake.base_url,
            }
        )
        token = DevIssuer.load_or_create(tmp_path).mint("leaving-user")
        with service(tmp_path, environment) as running:
            async with httpx.AsyncClient(timeout=30) as client:
                # and a discovery in flight, waiting on the provider
                in_flight = asyncio.create_task(
                    client.post(
                        f"{running.base_url}/graphql",
                        json={
                            "query": DISCOVER,
                            "variables": {"input": {"userUrl": "https://acme.com"}},
                        },
                        headers={"authorization": f"Bearer {token}"},
                    )
                )
                deadline = time.monotonic() + 10
                while not fake.calls("/findSimilar"):
                    assert time.monotonic() < deadline, "the discovery never reached the provider"
                    await asyncio.sleep(0.05)
                assert await _service_connections(postgres_database_url) > 0

                # when the process is told to stop
                running.terminate()
                signalled = time.monotonic()
                # then new connections are refused at once
                while not await _refused(running.base_url):
                    assert time.monotonic() - signalled < 2, "still accepting after SIGTERM"
                    await asyncio.sleep(0.05)
                refused_after = time.monotonic() - signalled
                # and the request in flight still gets its whole answer
                response = await in_flight
                answered_after = time.monotonic() - signalled
            payload = response.json()["data"]["discoverCompetitors"]
            assert response.status_code == 200
            assert payload["userErrors"] == []
            assert payload["discovery"]["competitors"]
            # and the process then ends the way uvicorn ends a graceful stop: it restores
            # the default handler and re-raises SIGTERM, so it dies of it, not of a crash
            assert running.process.wait(timeout=30) == -signal.SIGTERM
            # and it closed its database pool: no session of it is left
            assert await _service_connections(postgres_database_url) == 0
            logged = [json.loads(line) for line in running.stderr_lines()]
            assert any(line["message"] == "database connection pool closed" for line in logged)
    print(
        f"refused new connections after {refused_after:.3f} s;"
        f" in-flight discovery answered {answered_after:.3f} s after SIGTERM"
    )
