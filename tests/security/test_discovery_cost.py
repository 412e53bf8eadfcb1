"""Discovery cost control. Provider attempts are reserved before the call
(with the job row), failed ones count, the rate limit cannot be overshot by concurrent
requests nor given back by hard resets, and provider calls are capped per user and in
total.

Provider attempts are counted at the fake Exa on 127.0.0.1 (each discovery asks
`/findSimilar` about its own site), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.settings import Settings
from tests.support.discovery import DISCOVERY_JOB, EXA_KEY, final_discovery
from tests.support.discovery_jobs import (
    PER_MINUTE,
    exa_jobs,
    held_exa,
    provider_attempts,
    site,
    start,
)
from tests.support.fake_exa import FakeExaConfig
from tests.support.onboarding import RESET_ONBOARDING
from tests.support.waiting import until

DISCOVERY_READS = """
query Reads($id: ID!, $ids: [ID!]!) {
  competitorDiscovery(id: $id) { id }
  node(id: $id) { id }
  nodes(ids: $ids) { id }
  competitorDiscoveries(first: 100) { totalCount edges { node { id } } }
}
"""


async def test_forty_concurrent_discoveries_cause_at_most_the_limit_of_provider_attempts(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given the per-minute limit of 10 new discoveries
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=EXA_KEY)) as (graphql, fake, _):
        # when one user asks 40 different questions at once
        payloads = await asyncio.gather(
            *(start(graphql, userUrl=site(n), numResults=1) for n in range(40))
        )
    # then the provider was asked at most 10 times, and the others were refused
    codes = [tuple(e["code"] for e in payload["userErrors"]) for payload in payloads]
    assert codes.count(()) == PER_MINUTE
    assert codes.count(("RATE_LIMITED",)) == 40 - PER_MINUTE
    assert provider_attempts(fake) == PER_MINUTE


async def test_failed_attempts_count_against_the_limit(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a provider that fails every call
    config = FakeExaConfig(api_key=EXA_KEY, always_500=True)
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
    assert provider_attempts(fake) == PER_MINUTE
    # and the failures counted: the next question is refused too, without asking the provider
    assert [e["code"] for e in again["userErrors"]] == ["RATE_LIMITED"]
    assert provider_attempts(fake) == PER_MINUTE


async def test_provider_calls_are_capped_per_user_and_in_total(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given at most 2 running discoveries per user and 3 in all
    caps = {"discoveries_running_per_user": 2, "discoveries_running_total": 3}
    async with exa_jobs(settings, token_for, held_exa(), **caps) as (graphql, fake, _):
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
        fake.release()
        finals = [
            await final_discovery(graphql.as_user(user), found["id"])
            for user, found in zip(["user-a"] * 4 + ["user-b"] * 4, started, strict=True)
        ]
    assert {found["status"] for found in finals} == {"COMPLETED"}
    assert fake.most_in_flight("/search") == 3


async def test_hard_resets_give_back_no_attempts(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given the per-minute limit of 10 new discoveries
    async with exa_jobs(settings, token_for, FakeExaConfig(api_key=EXA_KEY)) as (graphql, fake, _):
        # when one user asks 20 different questions, each followed by a hard reset
        payloads: list[dict[str, Any]] = []
        for n in range(2 * PER_MINUTE):
            payloads.append(await start(graphql, userUrl=site(n), numResults=1))
            reset = await graphql.execute(RESET_ONBOARDING, {"input": {"hard": True}})
            assert reset["resetOnboarding"]["userErrors"] == []
        # and asks the first question again
        again = await start(graphql, userUrl=site(0), numResults=1)
        deleted = [p["discovery"]["id"] for p in payloads if p["discovery"] is not None]
        reads = [await graphql.execute(DISCOVERY_READS, {"id": i, "ids": [i]}) for i in deleted]
    # then the first 10 ran and every later one was refused, the resets notwithstanding
    codes = [tuple(e["code"] for e in payload["userErrors"]) for payload in payloads]
    assert codes == [()] * PER_MINUTE + [("RATE_LIMITED",)] * PER_MINUTE
    assert provider_attempts(fake) == PER_MINUTE
    # and so is the first question: its deleted result is no cache to answer from
    assert [e["code"] for e in again["userErrors"]] == ["RATE_LIMITED"]
    assert provider_attempts(fake) == PER_MINUTE
    # and the discoveries the resets deleted are gone from every read
    gone = {
        "competitorDiscovery": None,
        "node": None,
        "nodes": [None],
        "competitorDiscoveries": {"totalCount": 0, "edges": []},
    }
    assert len(reads) == PER_MINUTE
    assert [read for read in reads if read != gone] == []
