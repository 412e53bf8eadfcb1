"""A discovery is a job: `wait: false`, status and failure, single flight, cost control.

Against a fake Exa on 127.0.0.1 whose answers a test can hold back (`gate`),
on SQLite and PostgreSQL. Provider attempts are counted at the fake: each
discovery asks `/findSimilar` about its own URL, so distinct URLs there are
distinct provider attempts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from app.settings import Settings
from tests.reliability.metrics_text import sample
from tests.support.app import serving
from tests.support.discovery import (
    ACTIVE,
    DISCOVER_JOB,
    DISCOVERY_JOB,
    final_discovery,
)
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, STEP_DATA

KEY = "jobs-exa-key"
PER_MINUTE = 10
JOBS_METRIC = "onboarding_discovery_jobs_total"


@asynccontextmanager
async def exa_jobs(
    settings: Settings,
    token_for: Callable[[str], str],
    config: FakeExaConfig,
    **overrides: Any,
) -> AsyncIterator[tuple[GraphQLClient, FakeExa, httpx.AsyncClient]]:
    """The app with discovery jobs on a fake Exa that behaves as `config` says."""
    with run_fake_exa(config) as fake:
        configured = settings.model_copy(
            update={
                "exa_api_key": SecretStr(KEY),
                "exa_base_url": fake.base_url,
                "competitor_provider": "exa",
                "provider_timeout_seconds": 20,
                "discoveries_per_minute": PER_MINUTE,
                "discovery_poll_seconds": 0.05,
                **overrides,
            }
        )
        async with serving(configured) as http:
            yield GraphQLClient(http, token_for, "user-a"), fake, http
        if config.gate is not None:
            config.gate.set()  # let the fake's held requests go before it stops


def site(n: int) -> str:
    return f"https://shop-{n}.example.com"


async def start(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """`discoverCompetitors` with `fields` (and a default site); the payload."""
    result = await graphql.execute(DISCOVER_JOB, {"input": {"userUrl": site(0), **fields}})
    return dict(result["discoverCompetitors"])


def attempts(fake: FakeExa) -> int:
    """Provider attempts the fake has seen: one per distinct site asked about."""
    return len({call.body["url"] for call in fake.calls("/findSimilar")})


async def until(condition: Callable[[], bool], *, within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "the condition never came true"
        await asyncio.sleep(0.02)


async def test_wait_false_answers_while_the_provider_is_still_working(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a provider that holds every answer back until the test lets it go
    gate = threading.Event()
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY, gate=gate)) as (
        graphql,
        fake,
        _,
    ):
        # when a discovery is asked for with wait: false
        payload = await start(graphql, numResults=3, wait=False)
        # then it answers while the provider has not answered yet: PENDING or RUNNING, empty
        assert not gate.is_set()
        assert payload["userErrors"] == []
        pending = payload["discovery"]
        assert pending["status"] in ACTIVE
        assert pending["competitors"] == []
        assert pending["failure"] is None
        # and the job goes on by itself: once the provider answers, it is COMPLETED
        await until(lambda: fake.in_flight("/findSimilar") > 0)
        gate.set()
        done = await final_discovery(graphql, pending["id"])
    assert done["status"] == "COMPLETED"
    assert len(done["competitors"]) == 3
    assert done["failure"] is None


async def test_the_default_still_waits_and_answers_the_finished_discovery(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY)) as (graphql, _, _):
        payload = await start(graphql, numResults=2)
    assert payload["userErrors"] == []
    assert payload["discovery"]["status"] == "COMPLETED"
    assert len(payload["discovery"]["competitors"]) == 2


async def test_a_failed_job_says_why_with_the_code_the_mutation_answers(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a provider that rejects the service's key
    config = FakeExaConfig(api_key="another-key")
    async with exa_jobs(settings, token_for, config) as (graphql, _, _):
        # when one discovery is left to run and an identical question is waited for
        detached = (await start(graphql, wait=False))["discovery"]
        failed = await final_discovery(graphql, detached["id"])
        waited = await start(graphql, userUrl=site(1))
    # then the detached one reads FAILED, with the code and no results
    assert failed["status"] == "FAILED"
    assert failed["competitors"] == []
    assert failed["failure"]["code"] == "PROVIDER_MISCONFIGURED"
    assert failed["failure"]["field"] is None
    # and the waiting request answers that failure as userErrors, exactly as before jobs
    assert waited["discovery"] is None
    assert [error["code"] for error in waited["userErrors"]] == ["PROVIDER_MISCONFIGURED"]


async def test_identical_concurrent_requests_join_one_job_and_one_provider_call(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a provider that is still working when every request has arrived
    gate = threading.Event()
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY, gate=gate)) as (
        graphql,
        fake,
        http,
    ):
        # when ten identical requests (the URL spelled two ways) wait for their answer
        spellings = ["https://shop-0.example.com", "SHOP-0.example.com/"]
        requests = [
            asyncio.create_task(start(graphql, userUrl=spellings[n % 2], numResults=3))
            for n in range(10)
        ]
        await until(lambda: fake.in_flight("/findSimilar") > 0)
        await asyncio.sleep(0.2)  # the stragglers arrive while the job runs
        gate.set()
        payloads = await asyncio.gather(*requests)
        text = (await http.get("/metrics")).text
    # then all ten answer the same finished discovery, from one provider call
    assert all(payload["userErrors"] == [] for payload in payloads)
    assert len({payload["discovery"]["id"] for payload in payloads}) == 1
    assert {payload["discovery"]["status"] for payload in payloads} == {"COMPLETED"}
    assert len(fake.calls("/search")) == 1
    # and the metrics say one job started and the other requests joined or hit the cache
    assert sample(text, JOBS_METRIC, event="started") == 1
    assert sample(text, JOBS_METRIC, event="completed") == 1
    cached = sum(payload["discovery"]["cached"] for payload in payloads)
    assert (sample(text, JOBS_METRIC, event="joined") or 0) + cached == 9


async def test_different_analysis_data_is_a_different_question(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    gate = threading.Event()
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY, gate=gate)) as (
        graphql,
        _,
        _,
    ):
        first = await start(graphql, wait=False, websiteAnalysisData={"content_type": "blog"})
        second = await start(graphql, wait=False, websiteAnalysisData={"content_type": "shop"})
        same = await start(graphql, wait=False, websiteAnalysisData={"content_type": "shop"})
    assert first["discovery"]["id"] != second["discovery"]["id"]
    assert same["discovery"]["id"] == second["discovery"]["id"]


async def test_forty_concurrent_discoveries_cause_at_most_the_limit_of_provider_attempts(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given the per-minute limit of 10 new discoveries
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY)) as (graphql, fake, _):
        # when one user asks 40 different questions at once
        payloads = await asyncio.gather(
            *(start(graphql, userUrl=site(n), numResults=1) for n in range(40))
        )
    # then the provider was asked at most 10 times, and the others were refused
    codes = [tuple(e["code"] for e in payload["userErrors"]) for payload in payloads]
    assert codes.count(()) == PER_MINUTE
    assert codes.count(("RATE_LIMITED",)) == 40 - PER_MINUTE
    assert attempts(fake) == PER_MINUTE


async def test_failed_attempts_count_against_the_limit(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a provider that fails every call
    config = FakeExaConfig(api_key=KEY, always_500=True)
    async with exa_jobs(settings, token_for, config, provider_timeout_seconds=1) as (
        graphql,
        fake,
        _,
    ):
        # when one user asks 40 different questions at once, not waiting
        payloads = await asyncio.gather(
            *(start(graphql, userUrl=site(n), wait=False) for n in range(40))
        )
        accepted = [p["discovery"]["id"] for p in payloads if p["discovery"] is not None]
        finals = [await final_discovery(graphql, found) for found in accepted]
        # and asks once more after every accepted one has failed
        again = await start(graphql, userUrl=site(99))
    # then 10 were accepted and failed, each after one provider attempt, and 30 refused
    assert len(accepted) == PER_MINUTE
    assert {found["failure"]["code"] for found in finals} == {"PROVIDER_UNAVAILABLE"}
    refused = [p for p in payloads if p["discovery"] is None]
    assert {e["code"] for p in refused for e in p["userErrors"]} == {"RATE_LIMITED"}
    assert attempts(fake) == PER_MINUTE
    # and the failures counted: the next question is refused too, without asking the provider
    assert [e["code"] for e in again["userErrors"]] == ["RATE_LIMITED"]
    assert attempts(fake) == PER_MINUTE


async def test_provider_calls_are_capped_per_user_and_in_total(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given at most 2 running discoveries per user and 3 in all
    gate = threading.Event()
    caps = {"discoveries_running_per_user": 2, "discoveries_running_total": 3}
    config = FakeExaConfig(api_key=KEY, gate=gate)
    async with exa_jobs(settings, token_for, config, **caps) as (graphql, fake, _):
        # when two users each start four discoveries
        started = [
            (await start(graphql.as_user(user), userUrl=site(n), wait=False))["discovery"]
            for user in ("user-a", "user-b")
            for n in range(4)
        ]
        # then three reach the provider and the others wait their turn, PENDING
        await until(lambda: fake.in_flight("/search") == 3)
        await asyncio.sleep(0.3)  # several polls of the waiting jobs: none may start
        statuses = [
            (await graphql.as_user(user).execute(DISCOVERY_JOB, {"id": found["id"]}))[
                "competitorDiscovery"
            ]["status"]
            for user, found in zip(["user-a"] * 4 + ["user-b"] * 4, started, strict=True)
        ]
        assert statuses.count("RUNNING") == 3
        assert statuses.count("PENDING") == 5
        assert statuses[:4].count("RUNNING") <= 2
        assert statuses[4:].count("RUNNING") <= 2
        # and once the provider answers, every one of them completes in turn
        gate.set()
        finals = [
            await final_discovery(graphql.as_user(user), found["id"])
            for user, found in zip(["user-a"] * 4 + ["user-b"] * 4, started, strict=True)
        ]
    assert {found["status"] for found in finals} == {"COMPLETED"}
    assert fake.most_in_flight("/search") == 3


async def test_a_client_that_goes_away_does_not_stop_the_job(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    gate = threading.Event()
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY, gate=gate)) as (
        graphql,
        fake,
        _,
    ):
        # given a client waiting for its discovery while the provider works
        waiting = asyncio.create_task(start(graphql, numResults=2))
        await until(lambda: fake.in_flight("/findSimilar") > 0)
        # when the client gives up (its request is cancelled) and the provider then answers
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        gate.set()
        # then the discovery is stored, finished, and found by the next identical request
        again = await start(graphql, numResults=2)
    assert again["discovery"]["status"] == "COMPLETED"
    assert len(again["discovery"]["competitors"]) == 2
    assert len(fake.calls("/search")) == 1


async def test_step_3_takes_only_a_completed_discovery(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    gate = threading.Event()
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=KEY, gate=gate)) as (
        graphql,
        _,
        _,
    ):
        for step in (1, 2):
            await graphql.execute(COMPLETE_STEP, {"input": {"step": step, "data": STEP_DATA[step]}})
        running = (await start(graphql, wait=False))["discovery"]
        refused = await graphql.execute(
            COMPLETE_STEP, {"input": {"step": 3, "discoveryId": running["id"]}}
        )
        gate.set()
        await final_discovery(graphql, running["id"])
        accepted = await graphql.execute(
            COMPLETE_STEP, {"input": {"step": 3, "discoveryId": running["id"]}}
        )
    [error] = refused["completeOnboardingStep"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "discoveryId"], "VALIDATION_FAILED")
    assert accepted["completeOnboardingStep"]["userErrors"] == []
