"""The onboarding rules of DESIGN §4, as a frontend sees them through GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.onboarding import (
    COMPLETE_ONBOARDING,
    GEMINI_KEY,
    RESET_ONBOARDING,
    complete_step,
    progress_of,
    skip_step,
)


async def test_a_new_user_starts_at_step_one_with_six_pending_steps(graphql: GraphQLClient) -> None:
    # given a user never seen before / when they read their progress
    state = await progress_of(graphql)
    # then
    assert state["currentStep"] == 1
    assert state["completionPercentage"] == 0.0
    assert state["isCompleted"] is False
    assert [step["status"] for step in state["steps"]] == ["PENDING"] * 6
    assert [step["locked"] for step in state["steps"]] == [False] + [True] * 5
    assert state["startedAt"].endswith("+00:00")


async def test_current_step_and_percentage_follow_completed_and_skipped_steps(
    graphql: GraphQLClient,
) -> None:
    # given steps 1-3 completed
    for step in (1, 2, 3):
        await complete_step(graphql, step)
    # when step 4 is skipped
    payload = await skip_step(graphql, 4)
    # then the current step is 5 and 4 of 6 steps count as done
    assert payload["userErrors"] == []
    assert payload["step"] == {"number": 4, "status": "SKIPPED"}
    assert payload["progress"]["currentStep"] == 5
    assert payload["progress"]["completionPercentage"] == 66.7
    # and the query agrees with the payload: one formula everywhere
    assert (await progress_of(graphql))["completionPercentage"] == 66.7


async def test_a_locked_step_cannot_be_completed(graphql: GraphQLClient) -> None:
    # given nothing done / when step 3 is completed
    payload = await complete_step(graphql, 3)
    # then
    assert payload["step"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "step"],
            "code": "STEP_LOCKED",
            "message": "Step 3 is locked until step 1 is completed or skipped.",
        }
    ]
    assert payload["progress"]["steps"][2]["status"] == "PENDING"


async def test_only_optional_steps_can_be_skipped(graphql: GraphQLClient) -> None:
    # given a new user / when a required step is skipped
    payload = await skip_step(graphql, 1)
    # then
    assert payload["userErrors"][0]["code"] == "STEP_NOT_SKIPPABLE"
    assert payload["progress"]["steps"][0]["status"] == "PENDING"


async def test_an_optional_step_cannot_be_skipped_while_locked(graphql: GraphQLClient) -> None:
    payload = await skip_step(graphql, 5)
    assert payload["userErrors"][0]["code"] == "STEP_LOCKED"


@pytest.mark.parametrize("step", [0, 7, -1])
async def test_steps_outside_one_to_six_are_reported(graphql: GraphQLClient, step: int) -> None:
    payload = await complete_step(graphql, step, data={})
    assert payload["userErrors"][0]["code"] == "STEP_NOT_FOUND"
    assert payload["userErrors"][0]["field"] == ["input", "step"]


async def test_recompleting_a_step_replaces_its_data(graphql: GraphQLClient) -> None:
    # given step 2 completed with one website
    await complete_step(graphql, 1)
    await complete_step(graphql, 2)
    # when it is completed again with another
    payload = await complete_step(graphql, 2, data={"website": "https://other.example.org"})
    # then only the new data is kept and the step stays completed
    assert payload["userErrors"] == []
    assert payload["step"]["data"] == {"website": "https://other.example.org"}
    assert payload["progress"]["currentStep"] == 3


async def test_every_invalid_api_key_is_reported_with_its_path(graphql: GraphQLClient) -> None:
    # when step 1 gets a bad Gemini key, a non-UUID Exa key and no CopilotKit key
    data = {"apiKeys": {"gemini": "sk-not-gemini", "exa": "not-a-uuid"}}
    payload = await complete_step(graphql, 1, data=data)
    # then all three are reported, each at its field
    errors = payload["userErrors"]
    assert {tuple(error["field"]) for error in errors} == {
        ("input", "data", "apiKeys", "gemini"),
        ("input", "data", "apiKeys", "exa"),
        ("input", "data", "apiKeys", "copilotkit"),
    }
    assert {error["code"] for error in errors} == {"VALIDATION_FAILED"}
    # and the step records the failure without losing anything
    step = payload["progress"]["steps"][0]
    assert step["status"] == "FAILED"
    assert len(step["validationErrors"]) == 3
    assert step["data"] is None


async def test_a_failed_retry_keeps_a_completed_step(graphql: GraphQLClient) -> None:
    # given step 1 completed
    await complete_step(graphql, 1)
    # when it is re-sent with a bad key
    payload = await complete_step(graphql, 1, data={"apiKeys": {"gemini": "nope"}})
    # then the error is reported and the stored step is untouched
    assert payload["userErrors"]
    step = payload["progress"]["steps"][0]
    assert step["status"] == "COMPLETED"
    assert step["data"]["apiKeys"]["gemini"] == "••••" + GEMINI_KEY[-4:]


@pytest.mark.parametrize(
    ("step", "data", "field"),
    [
        (1, None, ["input", "data"]),
        (1, ["not", "an", "object"], ["input", "data"]),
        (1, {"apiKeys": "AIza"}, ["input", "data", "apiKeys"]),
        (2, {"website": "ftp://example.com"}, ["input", "data", "website"]),
        (2, {"website": "not a url"}, ["input", "data", "website"]),
        (2, {}, ["input", "data", "website"]),
        (3, {}, ["input", "data", "competitors"]),
        (3, {"competitors": "etsy.com"}, ["input", "data", "competitors"]),
    ],
)
async def test_step_data_is_validated_per_step(
    graphql: GraphQLClient, step: int, data: Any, field: list[str]
) -> None:
    # given the earlier steps completed
    for earlier in range(1, step):
        await complete_step(graphql, earlier)
    # when the step gets bad data
    payload = await complete_step(graphql, step, data=data)
    # then
    assert payload["step"] is None
    assert payload["userErrors"][0]["code"] == "VALIDATION_FAILED"
    assert payload["userErrors"][0]["field"] == field


async def test_oversized_step_data_is_refused(graphql: GraphQLClient) -> None:
    payload = await complete_step(graphql, 1, data={"apiKeys": {}, "notes": "x" * 300_000})
    assert payload["userErrors"][0]["field"] == ["input", "data"]
    assert "256 KiB" in payload["userErrors"][0]["message"]


async def test_completing_onboarding_needs_the_earlier_steps(graphql: GraphQLClient) -> None:
    # given only step 1 done
    await complete_step(graphql, 1)
    # when onboarding is completed
    payload = (await graphql.execute(COMPLETE_ONBOARDING))["completeOnboarding"]
    # then it is refused, listing what is missing
    [error] = payload["userErrors"]
    assert error["code"] == "REQUIRED_STEPS_INCOMPLETE"
    for title in ("2 (Website Analysis)", "3 (AI Research)", "4 (Personalization)"):
        assert title in error["message"]
    assert payload["progress"]["isCompleted"] is False


async def test_completing_onboarding_finishes_step_six(graphql: GraphQLClient) -> None:
    # given steps 1-3 completed, 4 skipped and 5 completed
    for step in (1, 2, 3):
        await complete_step(graphql, step)
    await skip_step(graphql, 4)
    await complete_step(graphql, 5)
    # when
    payload = (await graphql.execute(COMPLETE_ONBOARDING))["completeOnboarding"]
    # then
    state = payload["progress"]
    assert payload["userErrors"] == []
    assert state["isCompleted"] is True
    assert state["completionPercentage"] == 100.0
    assert state["currentStep"] == 6
    assert state["completedAt"] is not None
    assert state["steps"][5]["status"] == "COMPLETED"
    # and doing it again changes nothing
    again = (await graphql.execute(COMPLETE_ONBOARDING))["completeOnboarding"]
    assert again["userErrors"] == []
    assert again["progress"]["completedAt"] == state["completedAt"]


async def test_reset_sets_every_step_back_and_keeps_no_data(graphql: GraphQLClient) -> None:
    # given a user with steps done
    for step in (1, 2, 3):
        await complete_step(graphql, step)
    # when onboarding is reset
    payload = (await graphql.execute(RESET_ONBOARDING))["resetOnboarding"]
    # then
    state = payload["progress"]
    assert payload["userErrors"] == []
    assert state["currentStep"] == 1
    assert state["completionPercentage"] == 0.0
    assert [step["status"] for step in state["steps"]] == ["PENDING"] * 6
    assert [step["data"] for step in state["steps"]] == [None] * 6
    assert (await progress_of(graphql))["steps"][0]["data"] is None


async def test_one_users_progress_is_invisible_to_another(graphql: GraphQLClient) -> None:
    # given user A completed step 1
    await complete_step(graphql, 1)
    # when user B reads their progress
    other = await progress_of(graphql.as_user("user-b"))
    # then B sees a fresh onboarding
    assert other["currentStep"] == 1
    assert other["steps"][0]["status"] == "PENDING"
