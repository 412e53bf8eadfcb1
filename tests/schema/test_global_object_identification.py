"""Relay Global Object Identification: `Node`, `node`, `nodes`, and ids that stay the same.

Runs on SQLite and PostgreSQL (the `database_url` fixture is parametrized).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.support.app import http_client_for, running_app
from tests.support.discovery import discovered
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, RESET_ONBOARDING, STEP_DATA
from tests.support.statements import counted_statements

IDS = """
{
  viewer { id }
  onboardingProgress { id steps { id number } }
  competitorDiscoveries(first: 5) {
    edges { node { id competitors { id } socialMediaAccounts { id } researchSummary { id } } }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on OnboardingProgress { currentStep steps { id status } }
    ... on OnboardingStep { number status }
    ... on CompetitorDiscovery { userUrl competitors { domain } }
  }
}
"""

NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def ids_of(user: GraphQLClient) -> dict[str, Any]:
    """Every global id the user can see, by what it names."""
    data = await user.execute(IDS)
    discoveries = [edge["node"] for edge in data["competitorDiscoveries"]["edges"]]
    return {
        "viewer": data["viewer"]["id"],
        "progress": data["onboardingProgress"]["id"],
        "steps": [step["id"] for step in data["onboardingProgress"]["steps"]],
        "discoveries": [discovery["id"] for discovery in discoveries],
        "values": [
            value["id"]
            for discovery in discoveries
            for value in (
                *discovery["competitors"],
                discovery["socialMediaAccounts"],
                discovery["researchSummary"],
            )
        ],
    }


@pytest.fixture
async def alice(graphql: GraphQLClient) -> dict[str, Any]:
    """User A with step 1 completed and one discovery, and every id they can see."""
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    await discovered(graphql, userUrl="https://www.alices-bakery.com", numResults=3)
    return await ids_of(graphql)


async def test_node_answers_each_type_with_the_same_id(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    # when the viewer refetches their progress, a step and a discovery by id
    progress = (await graphql.execute(NODE, {"id": alice["progress"]}))["node"]
    step = (await graphql.execute(NODE, {"id": alice["steps"][0]}))["node"]
    found = (await graphql.execute(NODE, {"id": alice["discoveries"][0]}))["node"]
    # then each comes back as itself, with the id it was asked by
    assert progress["__typename"] == "OnboardingProgress"
    assert progress["id"] == alice["progress"]
    assert progress["currentStep"] == 2
    assert [s["id"] for s in progress["steps"]] == alice["steps"]
    assert step == {
        "__typename": "OnboardingStep",
        "id": alice["steps"][0],
        "number": 1,
        "status": "COMPLETED",
    }
    assert found["__typename"] == "CompetitorDiscovery"
    assert found["id"] == alice["discoveries"][0]
    assert found["userUrl"] == "https://www.alices-bakery.com/"
    assert len(found["competitors"]) == 3


async def test_nodes_answers_in_order_with_null_for_what_is_not_the_viewers(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    ids = [alice["steps"][5], "not-an-id", alice["discoveries"][0], alice["progress"]]
    data = await graphql.execute(NODES, {"ids": ids})
    assert data["nodes"] == [
        {"__typename": "OnboardingStep", "id": alice["steps"][5]},
        None,
        {"__typename": "CompetitorDiscovery", "id": alice["discoveries"][0]},
        {"__typename": "OnboardingProgress", "id": alice["progress"]},
    ]


async def test_discovery_ids_keep_their_v1_format(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    # Clients stored v1 ids (base64 of "CompetitorDiscovery:<uuid>"); they must keep working.
    decoded = base64.b64decode(alice["discoveries"][0]).decode()
    kind, _, key = decoded.partition(":")
    assert kind == "CompetitorDiscovery"
    legacy = b64(f"CompetitorDiscovery:{key}")
    assert (await graphql.execute(NODE, {"id": legacy}))["node"]["id"] == legacy
    query = "query D($id: ID!) { competitorDiscovery(id: $id) { id } }"
    assert (await graphql.execute(query, {"id": legacy}))["competitorDiscovery"]["id"] == legacy


async def test_every_id_is_unique_and_viewer_id_is_the_sub(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    assert alice["viewer"] == "user-a"
    every = [
        alice["viewer"],
        alice["progress"],
        *alice["steps"],
        *alice["discoveries"],
        *alice["values"],
    ]
    assert len(every) == len(set(every)), "Relay needs ids unique across all types"


async def test_ids_are_the_same_across_requests_restarts_and_instances(
    graphql: GraphQLClient, alice: dict[str, Any], settings: Settings, token_for: Any
) -> None:
    # given the ids one app instance gave out
    # when the same database is served by a second instance, started afresh
    async with running_app(settings) as second, http_client_for(second) as http:
        again = await ids_of(GraphQLClient(http, token_for, "user-a"))
    # then it gives the same ids (and so does a second request to the first one)
    assert again == alice
    assert await ids_of(graphql) == alice


async def test_step_and_progress_ids_survive_a_reset(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    await graphql.execute(RESET_ONBOARDING, {"input": {"hard": False}})
    after = await ids_of(graphql)
    assert (after["progress"], after["steps"]) == (alice["progress"], alice["steps"])


NOT_FOUND_BODY = {"data": {"node": None}}


def forged_ids(alice: dict[str, Any]) -> dict[str, str]:
    """Ids user B may send: malformed, of unknown types, made up, and values of A's."""
    discovery_key = base64.b64decode(alice["discoveries"][0]).decode().partition(":")[2]
    return {
        "empty": "",
        "not base64": "%%%",
        "base64 of nothing known": b64("hello"),
        "unknown type": b64("User:user-a"),
        "viewer id": alice["viewer"],
        "a value's id": alice["values"][0],
        "step of no number": b64("OnboardingStep:user-b:x"),
        "step number spelled twice": b64("OnboardingStep:user-b:01"),
        "step out of range": b64("OnboardingStep:user-b:7"),
        "discovery of no uuid": b64("CompetitorDiscovery:42"),
        "a discovery that never was": b64("CompetitorDiscovery:" + "0" * 8 + discovery_key[8:]),
        "unpadded": alice["steps"][0].rstrip("="),
        "very long": "QUFB" * 2000,
    }


async def test_another_users_ids_answer_exactly_like_ids_that_do_not_exist(
    graphql: GraphQLClient, alice: dict[str, Any], app: FastAPI
) -> None:
    bob = graphql.as_user("user-b")
    # given a discovery of B's own, so B's lookups hit real rows too
    await discovered(bob, userUrl="https://bobs-garage.example.com", numResults=2)
    alices = {
        "A's progress": alice["progress"],
        "A's step": alice["steps"][0],
        "A's discovery": alice["discoveries"][0],
    }
    bodies: dict[str, Any] = {}
    statements: dict[str, int] = {}
    for name, id_ in {**alices, **forged_ids(alice)}.items():
        # when B asks for each of them
        with counted_statements(app) as seen:
            response = await bob.post(NODE, {"id": id_})
        bodies[name] = (response.status_code, response.json())
        statements[name] = len(seen)
    # then every answer is the same null, with no error to tell them apart
    assert {name: body for name, body in bodies.items() if body != (200, NOT_FOUND_BODY)} == {}
    # and A's discovery costs B the same work as a discovery that never existed
    assert statements["A's discovery"] == statements["a discovery that never was"]
    # and A's progress and step cost no database read at all, like a malformed id
    assert statements["A's progress"] == statements["A's step"] == statements["not base64"] == 0
    # and nothing of A's shows in nodes either
    data = await bob.execute(NODES, {"ids": list(alices.values())})
    assert data == {"nodes": [None, None, None]}
    assert "alices-bakery" not in json.dumps(bodies)


async def test_a_deleted_discovery_answers_null(
    graphql: GraphQLClient, alice: dict[str, Any]
) -> None:
    # given A's discovery, deleted by a hard reset
    await graphql.execute(RESET_ONBOARDING, {"input": {"hard": True}})
    # when A refetches it by id
    response = await graphql.post(NODE, {"id": alice["discoveries"][0]})
    # then it is null, exactly as for an id that never existed
    assert (response.status_code, response.json()) == (200, NOT_FOUND_BODY)
    assert (await graphql.execute(NODES, {"ids": alice["discoveries"]})) == {"nodes": [None]}


async def test_node_needs_a_token(graphql: GraphQLClient, alice: dict[str, Any]) -> None:
    response = await graphql.as_user(None).post(NODE, {"id": alice["progress"]})
    body = response.json()
    assert body["data"] == {"node": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_nodes_refuses_more_than_a_hundred_ids(graphql: GraphQLClient) -> None:
    response = await graphql.post(NODES, {"ids": ["x"] * 101})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert body["errors"][0]["path"] == ["nodes"]
