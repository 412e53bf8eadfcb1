"""Isolation: user B, trying every field and mutation on user A's objects, gets and changes nothing.

Runs on SQLite and PostgreSQL (the `database_url` fixture is parametrized).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.discovery import DISCOVERIES, DISCOVERY, discover, discovered
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import (
    COMPLETE_ONBOARDING,
    COMPLETE_STEP,
    GEMINI_KEY,
    PROGRESS,
    RESET_ONBOARDING,
    SKIP_STEP,
    complete_step,
    skip_step,
)

A_URL = "https://www.alices-bakery.com"
VIEWER = "{ viewer { id email onboarding { currentStep steps { number status data } } } }"
BOB_DATA: dict[int, dict[str, Any]] = {
    1: {
        "apiKeys": {
            "gemini": "AIzaSyB-bobs-own-gemini-key-000000zzzz",
            "exa": "0b0b0b0b-1111-4222-8333-944444444444",
            "copilotkit": "ck_pub_bobsownkeyzzzz",
        }
    },
    2: {"website": "https://bobs-garage.example.com"},
}
STEP = "query Step($n: Int!) { onboardingStep(number: $n) { number status data completedAt } }"


async def state_of(user: GraphQLClient) -> dict[str, Any]:
    """Everything a user can read about themselves, discoveries included."""
    history = await user.execute(DISCOVERIES, {"first": 100})
    ids = [edge["node"]["id"] for edge in history["competitorDiscoveries"]["edges"]]
    return {
        "viewer": await user.execute(VIEWER),
        "progress": await user.execute(PROGRESS),
        "steps": [await user.execute(STEP, {"n": n}) for n in range(1, 7)],
        "history": history,
        "discoveries": [await user.execute(DISCOVERY, {"id": id_}) for id_ in ids],
    }


@pytest.fixture
async def alice(graphql: GraphQLClient) -> dict[str, Any]:
    """User A part-way through onboarding: steps 1-3 done (3 from a discovery), 4 skipped."""
    found = await discovered(graphql, userUrl=A_URL, industryContext="bakery")
    for step, fields in ((1, {}), (2, {}), (3, {"discoveryId": found["id"]})):
        assert (await complete_step(graphql, step, **fields))["userErrors"] == []
    await skip_step(graphql, 4)
    cursor_page = await graphql.execute(DISCOVERIES, {"first": 1})
    return {
        "discovery": found,
        "cursor": cursor_page["competitorDiscoveries"]["pageInfo"]["endCursor"],
        "state": await state_of(graphql),
    }


def assert_nothing_of(alice: dict[str, Any], text: str) -> None:
    """No id, URL, cursor or data of A in a response B got."""
    for secret in (alice["discovery"]["id"], "alices-bakery", alice["cursor"], GEMINI_KEY[-4:]):
        assert secret not in text, f"{secret!r} leaked into {text[:300]}"


async def test_user_b_reads_and_changes_nothing_of_user_a(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    bob = graphql.as_user("user-b")
    seen: list[str] = []

    async def as_bob(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await bob.post(query, variables)
        seen.append(response.text)
        body: dict[str, Any] = response.json()
        return body

    a_id = alice["discovery"]["id"]
    # when B reads their own things
    viewer = await as_bob(VIEWER)
    assert viewer["data"]["viewer"]["id"] == "user-b"
    assert all(step["data"] is None for step in viewer["data"]["viewer"]["onboarding"]["steps"])
    progress = await as_bob(PROGRESS)
    assert progress["data"]["onboardingProgress"]["currentStep"] == 1
    for n in range(1, 7):
        step = await as_bob(STEP, {"n": n})
        assert step["data"]["onboardingStep"]["status"] == "PENDING"
    # and asks for A's discovery by id, and for A's history from A's cursor
    assert (await as_bob(DISCOVERY, {"id": a_id}))["data"] == {"competitorDiscovery": None}
    history = await as_bob(DISCOVERIES, {"first": 100})
    assert history["data"]["competitorDiscoveries"]["edges"] == []
    after_a = await as_bob(DISCOVERIES, {"first": 100, "after": alice["cursor"]})
    assert (after_a.get("data") or {}).get("competitorDiscoveries", {"edges": []})["edges"] == []
    # and tries to complete step 3 with A's discovery (after doing 1 and 2 themselves)
    for step in (1, 2):
        done = await as_bob(COMPLETE_STEP, {"input": {"step": step, "data": BOB_DATA[step]}})
        assert done["data"]["completeOnboardingStep"]["userErrors"] == []
    stolen = await as_bob(COMPLETE_STEP, {"input": {"step": 3, "discoveryId": a_id}})
    payload = stolen["data"]["completeOnboardingStep"]
    assert [error["code"] for error in payload["userErrors"]] == ["NOT_FOUND"]
    assert payload["step"] is None
    # and sends A's id as the deprecated sessionId everywhere it is accepted
    skipped = await as_bob(SKIP_STEP, {"input": {"step": 4, "sessionId": "user-a"}})
    assert skipped["data"]["skipOnboardingStep"]["sessionId"] == "user-b"
    old_progress = await as_bob('query { onboardingProgress(sessionId: "user-a") { currentStep } }')
    assert old_progress["data"]["onboardingProgress"]["currentStep"] == 3
    finished = await as_bob(COMPLETE_ONBOARDING, {"input": {"sessionId": "user-a"}})
    assert finished["data"]["completeOnboarding"]["userErrors"]  # B's own steps are incomplete
    # and makes the very request A made (same URL, industry, size): no cache hit on A's result
    mine = await discover(bob, userUrl=A_URL, industryContext="bakery")
    assert mine["userErrors"] == []
    assert mine["discovery"]["cached"] is False
    assert mine["discovery"]["id"] != a_id
    seen.append(json.dumps(mine))
    # and hard-resets onboarding, which deletes discoveries
    reset = await as_bob(RESET_ONBOARDING, {"input": {"hard": True, "sessionId": "user-a"}})
    assert reset["data"]["resetOnboarding"]["userErrors"] == []
    assert (await as_bob(DISCOVERIES))["data"]["competitorDiscoveries"]["edges"] == []

    # then nothing B got carried anything of A (the identical discovery aside, made for B)
    for text in seen[:-3]:
        assert_nothing_of(alice, text)
    # and A's state is exactly as it was
    assert await state_of(graphql) == alice["state"]


async def test_a_discovery_id_of_user_a_is_not_found_whatever_its_form(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    # given A's global id, and variants of it B might try
    a_id: str = alice["discovery"]["id"]
    bob = graphql.as_user("user-b")
    for candidate in (a_id, a_id + "=", a_id.lower(), a_id.upper(), " " + a_id):
        # when B asks / then B gets null (or an argument error), and nothing of A
        response = await bob.post(DISCOVERY, {"id": candidate})
        assert (response.json().get("data") or {}).get("competitorDiscovery") is None
        assert_nothing_of(alice, response.text)
