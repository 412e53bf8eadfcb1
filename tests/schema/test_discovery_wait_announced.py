"""A `discoverCompetitors` waiting on another process's job wakes on its announced change.

Two apps (two processes' worth of runtime: job runner, LISTEN connection) on one
PostgreSQL database. Before subscriptions, the waiting request read the job's
row every `discovery_poll_seconds`; now it reads it when the job's change is
announced. Counted in statements, not timed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from app.settings import Settings
from resolvers.secrets import SecretBox
from tests.support.app import http_client_for, running_app
from tests.support.discovery import DISCOVER_JOB
from tests.support.fake_exa import FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer
from tests.support.statements import counted_statements
from tests.support.waiting import until

KEY = "announced-wait-exa-key"
POLL_SECONDS = 0.02
HELD_POLLS = 50  # the provider is held for at least this many polls' worth of time


async def test_a_request_waiting_on_another_processs_job_reads_it_when_it_changes(
    postgres_database_url: str,
    jwks_server: JWKSServer,
    token_for: Callable[[str], str],
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(api_key=KEY, gate=gate)) as fake:
        settings = Settings(
            database_url=postgres_database_url,
            data_dir=tmp_path / "data",
            jwks_url=jwks_server.url,
            jwt_issuer=DEFAULT_ISSUER,
            secret_key=SecretBox.generate_key(),
            competitor_provider="exa",
            exa_api_key=SecretStr(KEY),
            exa_base_url=fake.base_url,
            provider_timeout_seconds=20,
            discovery_poll_seconds=POLL_SECONDS,
        )
        async with (
            running_app(settings) as runner,
            running_app(settings) as waiter,
            http_client_for(runner) as runner_http,
            http_client_for(waiter) as waiter_http,
        ):
            question = {"input": {"userUrl": "https://shop.example.com", "numResults": 2}}
            # given a job started (wait: false) in the first process, held by the provider
            started = await GraphQLClient(runner_http, token_for, "user-a").execute(
                DISCOVER_JOB, {"input": {**question["input"], "wait": False}}
            )
            job_id = started["discoverCompetitors"]["discovery"]["id"]
            await until(lambda: fake.in_flight("/findSimilar") > 0)
            waiter_feed = waiter.state.runtime.services.changes
            with counted_statements(waiter) as statements:
                # when the same question is asked in the second process, which waits (joins)
                waiting = GraphQLClient(waiter_http, token_for, "user-a").execute(
                    DISCOVER_JOB, question
                )
                request = asyncio.ensure_future(waiting)
                await until(lambda: waiter_feed.watch_count > 0)
                # and the provider answers only after many polls' worth of time
                await asyncio.sleep(POLL_SECONDS * HELD_POLLS)
                gate.set()
                answered = await request
            # then the waiting request answers the finished job
            discovery = answered["discoverCompetitors"]["discovery"]
            assert discovery["id"] == job_id
            assert discovery["status"] == "COMPLETED"
    # and it read the job's row a few times (at the start, after the change), not once a poll
    reads = [s for s in statements if "FROM competitor_discoveries" in s and "WHERE" in s]
    assert len(reads) <= 5, reads
