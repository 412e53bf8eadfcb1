"""A discovery is a job: `wait: false`, status and failure, single flight, detached.

Against a fake Exa on 127.0.0.1 whose answers a test can hold back (`held`),
on SQLite and PostgreSQL. Cost control is in tests/security/test_discovery_cost.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from app.settings import Settings
from tests.reliability.metrics_text import sample
from tests.support.discovery import ACTIVE, EXA_KEY, ExaApp, final_discovery
from tests.support.discovery_jobs import (
    JOBS_METRIC,
    exa_jobs,
    held_exa,
    site,
    start,
)
from tests.support.fake_exa import FakeExaConfig
from tests.support.onboarding import COMPLETE_STEP, STEP_DATA
from tests.support.waiting import until


@pytest.fixture
async def held(settings: Settings, token_for: Callable[[str], str]) -> AsyncIterator[ExaApp]:
    """The app on a fake Exa that holds every answer until the test calls `fake.release()`."""
    async with exa_jobs(settings, token_for, held_exa()) as app:
        yield app


async def test_wait_false_answers_while_the_provider_is_still_working(held: ExaApp) -> None:
    # given a provider that holds every answer back until the test lets it go
    graphql, fake, _ = held
    # when a discovery is asked for with wait: false
    payload = await start(graphql, numResults=3, wait=False)
    # then it answers while the provider has not answered yet: PENDING or RUNNING, empty
    assert fake.holding
    assert payload["userErrors"] == []
    pending = payload["discovery"]
    assert pending["status"] in ACTIVE
    assert pending["competitors"] == []
    assert pending["failure"] is None
    # and the job goes on by itself: once the provider answers, it is COMPLETED
    await until(lambda: fake.in_flight("/findSimilar") > 0)
    fake.release()
    done = await final_discovery(graphql, pending["id"])
    assert done["status"] == "COMPLETED"
    assert len(done["competitors"]) == 3
    assert done["failure"] is None


async def test_the_default_still_waits_and_answers_the_finished_discovery(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=EXA_KEY)) as (graphql, _, _):
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
    held: ExaApp,
) -> None:
    # given a provider that is still working when every request has arrived
    graphql, fake, http = held
    # when ten identical requests (the URL spelled two ways) wait for their answer
    spellings = ["https://shop-0.example.com", "SHOP-0.example.com/"]
    requests = [
        asyncio.create_task(start(graphql, userUrl=spellings[n % 2], numResults=3))
        for n in range(10)
    ]
    await until(lambda: fake.in_flight("/findSimilar") > 0)
    await asyncio.sleep(0.2)  # the stragglers arrive while the job runs
    fake.release()
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


async def test_different_analysis_data_is_a_different_question(held: ExaApp) -> None:
    graphql, _, _ = held
    first = await start(graphql, wait=False, websiteAnalysisData={"content_type": "blog"})
    second = await start(graphql, wait=False, websiteAnalysisData={"content_type": "shop"})
    same = await start(graphql, wait=False, websiteAnalysisData={"content_type": "shop"})
    assert first["discovery"]["id"] != second["discovery"]["id"]
    assert same["discovery"]["id"] == second["discovery"]["id"]


async def test_a_client_that_goes_away_does_not_stop_the_job(held: ExaApp) -> None:
    graphql, fake, _ = held
    # given a client waiting for its discovery while the provider works
    waiting = asyncio.create_task(start(graphql, numResults=2))
    await until(lambda: fake.in_flight("/findSimilar") > 0)
    # when the client gives up (its request is cancelled) and the provider then answers
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    fake.release()
    # then the discovery is stored, finished, and found by the next identical request
    again = await start(graphql, numResults=2)
    assert again["discovery"]["status"] == "COMPLETED"
    assert len(again["discovery"]["competitors"]) == 2
    assert len(fake.calls("/search")) == 1


async def test_step_3_takes_only_a_completed_discovery(held: ExaApp) -> None:
    graphql, fake, _ = held
    for step in (1, 2):
        await graphql.execute(COMPLETE_STEP, {"input": {"step": step, "data": STEP_DATA[step]}})
    running = (await start(graphql, wait=False))["discovery"]
    refused = await graphql.execute(
        COMPLETE_STEP, {"input": {"step": 3, "discoveryId": running["id"]}}
    )
    fake.release()
    await final_discovery(graphql, running["id"])
    accepted = await graphql.execute(
        COMPLETE_STEP, {"input": {"step": 3, "discoveryId": running["id"]}}
    )
    [error] = refused["completeOnboardingStep"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "discoveryId"], "VALIDATION_FAILED")
    assert accepted["completeOnboardingStep"]["userErrors"] == []
