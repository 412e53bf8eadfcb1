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

from tests.support.app import http_client_for, offline_settings, running_app
from tests.support.discovery import DISCOVER_JOB, EXA_KEY, on_fake_exa
from tests.support.fake_exa import FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient
from tests.support.jwks_server import JWKSServer
from tests.support.statements import counted_statements
from tests.support.waiting import until

POLL_SECONDS = 0.02
HELD_POLLS = 50  # the provider is held for at least this many polls' worth of time


async def test_a_request_waiting_on_another_processs_job_reads_it_when_it_changes(
    postgres_database_url: str,
    jwks_server: JWKSServer,
    token_for: Callable[[str], str],
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(api_key=EXA_KEY, gate=gate)) as fake:
        settings = on_fake_exa(
            offline_settings(postgres_database_url, jwks_server.url, tmp_path / "data"),
            fake,
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
