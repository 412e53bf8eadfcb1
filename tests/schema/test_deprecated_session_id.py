"""The deprecated `sessionId`: visible as deprecated, accepted, ignored and counted."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA

INTROSPECTION = """
{
  __schema {
    queryType { fields { name args(includeDeprecated: true) {
      name isDeprecated deprecationReason type { kind name }
    } } }
    mutationType { fields {
      name
      args { name type { kind name ofType { name } } }
      type { kind ofType { name } }
    } }
    types {
      name kind
      fields(includeDeprecated: true) {
        name isDeprecated deprecationReason type { kind name }
      }
      inputFields(includeDeprecated: true) {
        name isDeprecated deprecationReason type { kind name }
      }
    }
  }
}
"""


def _session_id(members: list[dict[str, Any]]) -> dict[str, Any]:
    [session_id] = [member for member in members if member["name"] == "sessionId"]
    return session_id


def _assert_deprecated_and_nullable(member: dict[str, Any]) -> None:
    assert member["isDeprecated"] is True
    assert member["deprecationReason"]
    assert member["type"] == {"kind": "SCALAR", "name": "String"}


async def test_introspection_shows_session_id_deprecated_everywhere(graphql: GraphQLClient) -> None:
    # when a schema consumer introspects with includeDeprecated
    schema = (await graphql.execute(INTROSPECTION))["__schema"]
    types = {type_["name"]: type_ for type_ in schema["types"]}
    # then the onboardingProgress argument is deprecated and nullable
    [progress_field] = [
        field for field in schema["queryType"]["fields"] if field["name"] == "onboardingProgress"
    ]
    _assert_deprecated_and_nullable(_session_id(progress_field["args"]))
    # and so is sessionId on every mutation's input and on every payload
    mutations = schema["mutationType"]["fields"]
    assert len(mutations) >= 4
    for mutation in mutations:
        [argument] = mutation["args"]
        input_name = argument["type"]["name"] or argument["type"]["ofType"]["name"]
        _assert_deprecated_and_nullable(_session_id(types[input_name]["inputFields"]))
        payload_name = mutation["type"]["ofType"]["name"]
        _assert_deprecated_and_nullable(_session_id(types[payload_name]["fields"]))


async def test_a_foreign_session_id_changes_nothing(graphql: GraphQLClient) -> None:
    # given a new-style client and an old one that sends someone else's session id
    new_style = {"input": {"step": 1, "data": STEP_DATA[1]}}
    old_style = {"input": {"step": 1, "data": STEP_DATA[1], "sessionId": "someone-else"}}
    # when both complete step 1 as user-a and user-b respectively
    new_payload = (await graphql.execute(COMPLETE_STEP, new_style))["completeOnboardingStep"]
    old_client = graphql.as_user("user-b")
    old_payload = (await old_client.execute(COMPLETE_STEP, old_style))["completeOnboardingStep"]
    # then both behave alike, each for the token's user, and sessionId echoes that user
    assert new_payload["sessionId"] == "user-a"
    assert old_payload["sessionId"] == "user-b"
    for payload in (new_payload, old_payload):
        assert payload["userErrors"] == []
        assert payload["progress"]["currentStep"] == 2
    # and nobody called "someone-else" was touched
    someone_else = await graphql.as_user("someone-else").execute(PROGRESS)
    assert someone_else["onboardingProgress"]["currentStep"] == 1


async def test_the_session_id_argument_is_ignored(graphql: GraphQLClient) -> None:
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    query = '{ onboardingProgress(sessionId: "someone-else") { currentStep } }'
    assert (await graphql.execute(query))["onboardingProgress"]["currentStep"] == 2


async def test_deprecated_usage_is_counted_by_coordinate_and_client(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given an old client that names itself and sends sessionId in a variable and an argument
    variables = {"input": {"step": 4, "sessionId": "legacy-123"}}
    headers = {"apollographql-client-name": "legacy-web"}
    await graphql.post(COMPLETE_STEP, variables, headers=headers)
    await graphql.post('{ onboardingProgress(sessionId: "x") { currentStep } }', headers=headers)
    # when the metrics are scraped
    metrics = (await http.get("/metrics")).text
    # then each deprecated coordinate is counted for that client
    for coordinate in (
        "CompleteOnboardingStepInput.sessionId",
        "OnboardingStepPayload.sessionId",
        "Query.onboardingProgress(sessionId:)",
    ):
        labels = f'client="legacy-web",coordinate="{coordinate}"'
        assert f"onboarding_deprecated_usage_total{{{labels}}} 1.0" in metrics
