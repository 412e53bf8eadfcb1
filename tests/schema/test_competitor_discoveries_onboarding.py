"""Discoveries in the onboarding flow: step 3 from a `discoveryId`, and `resetOnboarding`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.discovery import DISCOVERIES, DISCOVERY, discovered
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, RESET_ONBOARDING, STEP_DATA


async def complete(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    result = await graphql.execute(COMPLETE_STEP, {"input": fields})
    return dict(result["completeOnboardingStep"])


async def at_step_three(graphql: GraphQLClient) -> None:
    for step in (1, 2):
        assert (await complete(graphql, step=step, data=STEP_DATA[step]))["userErrors"] == []


async def test_step_three_takes_the_viewers_discovery(graphql: GraphQLClient) -> None:
    # given steps 1 and 2 done and a discovery
    await at_step_three(graphql)
    found = await discovered(graphql, numResults=4)
    # when step 3 is completed with its id and no data
    payload = await complete(graphql, step=3, discoveryId=found["id"])
    # then the step holds the discovery's competitors and summary, and passes validation
    assert payload["userErrors"] == []
    step = payload["step"]
    assert step["status"] == "COMPLETED"
    assert step["data"]["discoveryId"] == found["id"]
    assert [c["url"] for c in step["data"]["competitors"]] == [
        c["url"] for c in found["competitors"]
    ]
    assert step["data"]["researchSummary"] == found["researchSummary"]
    assert payload["progress"]["currentStep"] == 4
    assert payload["progress"]["steps"][2]["validationErrors"] == []


async def test_step_three_keeps_other_data_sent_with_a_discovery(graphql: GraphQLClient) -> None:
    await at_step_three(graphql)
    found = await discovered(graphql, numResults=2)
    payload = await complete(
        graphql,
        step=3,
        discoveryId=found["id"],
        data={"notes": "watch the top two", "competitors": "ignored"},
    )
    assert payload["userErrors"] == []
    assert payload["step"]["data"]["notes"] == "watch the top two"
    assert len(payload["step"]["data"]["competitors"]) == 2


@pytest.mark.parametrize("whose", ["another user's", "unknown", "malformed"])
async def test_step_three_refuses_a_discovery_that_is_not_the_viewers(
    graphql: GraphQLClient, whose: str
) -> None:
    # given steps 1 and 2 done, and a discovery id that is not the viewer's
    await at_step_three(graphql)
    discovery_id = {
        "another user's": (await discovered(graphql.as_user("user-b"), numResults=2))["id"],
        "unknown": "Q29tcGV0aXRvckRpc2NvdmVyeTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=",
        "malformed": "not-an-id",
    }[whose]
    # when step 3 is completed with it
    payload = await complete(graphql, step=3, discoveryId=discovery_id)
    # then it is not found, at the discoveryId field, and the step is untouched
    assert payload["step"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "discoveryId"], "NOT_FOUND")
    ]
    assert payload["progress"]["steps"][2]["status"] == "PENDING"


async def test_a_discovery_id_is_only_for_step_three(graphql: GraphQLClient) -> None:
    found = await discovered(graphql, numResults=2)
    payload = await complete(graphql, step=1, data=STEP_DATA[1], discoveryId=found["id"])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "discoveryId"], "VALIDATION_FAILED")
    ]


async def test_step_three_still_needs_something(graphql: GraphQLClient) -> None:
    await at_step_three(graphql)
    payload = await complete(graphql, step=3)
    assert payload["userErrors"][0]["field"] == ["input", "data"]
    assert "discoveryId" in payload["userErrors"][0]["message"]


async def reset(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    result = await graphql.execute(RESET_ONBOARDING, {"input": fields})
    return dict(result["resetOnboarding"])


async def test_a_soft_reset_keeps_discoveries(graphql: GraphQLClient) -> None:
    # given a discovery
    found = await discovered(graphql, numResults=2)
    # when onboarding is reset (soft)
    assert (await reset(graphql))["userErrors"] == []
    # then the discovery is still there
    assert (await graphql.execute(DISCOVERY, {"id": found["id"]}))["competitorDiscovery"]
    assert len((await graphql.execute(DISCOVERIES))["competitorDiscoveries"]["edges"]) == 1


async def test_a_hard_reset_deletes_the_viewers_discoveries_only(graphql: GraphQLClient) -> None:
    # given discoveries of user A (one used by step 3) and one of user B
    await at_step_three(graphql)
    found = await discovered(graphql, numResults=2)
    await discovered(graphql, numResults=3)
    await complete(graphql, step=3, discoveryId=found["id"])
    theirs = await discovered(graphql.as_user("user-b"), numResults=2)
    # when A resets hard
    payload = await reset(graphql, hard=True)
    # then A's progress and discoveries are gone
    assert payload["userErrors"] == []
    assert [step["status"] for step in payload["progress"]["steps"]] == ["PENDING"] * 6
    assert (await graphql.execute(DISCOVERY, {"id": found["id"]}))["competitorDiscovery"] is None
    assert (await graphql.execute(DISCOVERIES))["competitorDiscoveries"]["edges"] == []
    # and the same request is a new discovery, not a cache hit
    assert (await discovered(graphql, numResults=2))["cached"] is False
    # and B's discovery is untouched
    user_b = graphql.as_user("user-b")
    assert (await user_b.execute(DISCOVERY, {"id": theirs["id"]}))["competitorDiscovery"]
