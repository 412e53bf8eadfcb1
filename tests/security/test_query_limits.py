"""DESIGN §11: depth, alias, token and cost bombs are refused before anything executes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import get_introspection_query

from app.settings import Settings
from tests.support.app import http_client_for, running_app
from tests.support.graphql import GraphQLClient
from tests.support.hostile_documents import fragment_chain, fragment_doubling
from tests.support.statements import counted_statements

INTROSPECTION = get_introspection_query(input_value_deprecation=True)


def nested_types(levels: int) -> str:
    """`__schema { types { fields { type { fields { type ... } } } } } }`: `levels` deep."""
    chain = ["fields" if n % 2 == 0 else "type" for n in range(levels - 3)]
    inner = "name"
    for field in reversed(chain):
        inner = f"{field} {{ {inner} }}"
    return f"__schema {{ types {{ {inner} }} }}"


DEPTH_BOMB = "{ viewer { onboarding { currentStep } } " + nested_types(13) + " }"
DEEPEST_USER_QUERY = "{ viewer { onboarding { steps { number } } } }"
ALIAS_BOMB = (
    "{ " + " ".join(f"p{n}: onboardingProgress {{ currentStep }}" for n in range(31)) + " }"
)
ALIASES_AT_LIMIT = (
    "{ " + " ".join(f"p{n}: onboardingProgress {{ currentStep }}" for n in range(30)) + " }"
)
TOKEN_BOMB = "{ viewer { onboarding { currentStep } " + "__typename " * 2000 + "} }"
COST_BOMB = "{ competitorDiscoveries(first: 100) { edges { node { competitors { url } } } } }"
COST_BY_VARIABLE = """
query History($first: Int) {
  competitorDiscoveries(first: $first) { edges { node { competitors { url } } } }
}
"""
MUTATION_COST_BOMB = (
    "mutation { "
    + " ".join(
        f'd{n}: discoverCompetitors(input: {{userUrl: "https://shop{n}.example.com"}})'
        " { discovery { competitors { url } } }"
        for n in range(10)
    )
    + " }"
)
DISCOVERIES = "{ competitorDiscoveries { edges { node { id } } } }"
COST_BY_VARIABLE_DEFAULT = """
query History($first: Int = 100) {
  competitorDiscoveries(first: $first) { edges { node { competitors { url } } } }
}
"""


FRAGMENT_BOMB = fragment_doubling(40)


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


def codes(response: httpx.Response) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in response.json()["errors"]]


def assert_rejected_before_execution(
    response: httpx.Response, code: str, statements: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert code in codes(response)
    assert statements == [], "a resolver ran: SQL was executed"
    error: dict[str, Any] = next(e for e in body["errors"] if e["extensions"]["code"] == code)
    return error


@pytest.mark.parametrize(
    ("bomb", "code"),
    [
        (DEPTH_BOMB, "QUERY_TOO_DEEP"),
        (ALIAS_BOMB, "TOO_MANY_ALIASES"),
        (TOKEN_BOMB, "TOO_MANY_TOKENS"),
        (COST_BOMB, "MAX_COST_EXCEEDED"),
    ],
    ids=["depth", "aliases", "tokens", "cost"],
)
async def test_each_bomb_is_rejected_before_execution(
    app: FastAPI, graphql: GraphQLClient, bomb: str, code: str
) -> None:
    # given a signed-in viewer / when they send a query over one limit
    with counted_statements(app) as statements:
        response = await graphql.post(bomb)
    # then it answers the limit's code, no data, and no resolver touched the database
    assert_rejected_before_execution(response, code, statements)


async def test_thirty_aliases_run(graphql: GraphQLClient) -> None:
    data = await graphql.execute(ALIASES_AT_LIMIT)
    assert len(data) == 30


async def test_a_query_exactly_at_the_depth_limit_runs(settings: Settings, token_for: Any) -> None:
    # given a depth limit of 4 / when a query 4 deep is sent / then it runs
    async with (
        running_app(settings.model_copy(update={"max_query_depth": 4})) as lowered,
        http_client_for(lowered) as http,
    ):
        client = GraphQLClient(http, token_for, "user-a")
        data = await client.execute(DEEPEST_USER_QUERY)
    assert len(data["viewer"]["onboarding"]["steps"]) == 6


async def test_the_cost_error_names_the_cost(app: FastAPI, graphql: GraphQLClient) -> None:
    # when the history is asked for 100 discoveries with all their competitors
    with counted_statements(app) as statements:
        response = await graphql.post(COST_BOMB)
    error = assert_rejected_before_execution(response, "MAX_COST_EXCEEDED", statements)
    # then the cost is 1 (connection) + 100 x (edge + node + 100 competitors) = 10201
    assert error["extensions"]["cost"] == 10201
    assert error["extensions"]["maxCost"] == 1000
    assert "10201" in error["message"]


async def test_the_cost_follows_first_given_in_variables(graphql: GraphQLClient) -> None:
    # given the same query with first from a variable
    big = await graphql.post(COST_BY_VARIABLE, {"first": 100})
    small = await graphql.post(COST_BY_VARIABLE, {"first": 5})
    # then 100 is over the maximum and 5 (cost 511) is not
    assert codes(big) == ["MAX_COST_EXCEEDED"]
    assert small.json() == {"data": {"competitorDiscoveries": {"edges": []}}}


async def test_a_price_read_from_variables_is_worked_out_for_each_request(
    graphql: GraphQLClient,
) -> None:
    # given the query with first from a variable, answered once within the maximum
    small = await graphql.post(COST_BY_VARIABLE, {"first": 5})
    assert small.json() == {"data": {"competitorDiscoveries": {"edges": []}}}
    # when the same document comes again with first: 100
    big = await graphql.post(COST_BY_VARIABLE, {"first": 100})
    # then that request is priced on its own variables, and refused
    assert codes(big) == ["MAX_COST_EXCEEDED"]


async def test_a_variables_default_is_priced_like_a_literal(graphql: GraphQLClient) -> None:
    # given $first declared with the default 100 / when the request gives no value for it
    response = await graphql.post(COST_BY_VARIABLE_DEFAULT)
    # then it is priced as first: 100 (execution would use 100), not as the field's default 10
    error = next(
        e for e in response.json()["errors"] if e["extensions"]["code"] == "MAX_COST_EXCEEDED"
    )
    assert error["extensions"]["cost"] == 10201
    # and a value given for it still wins over the default
    small = await graphql.post(COST_BY_VARIABLE_DEFAULT, {"first": 5})
    assert small.json() == {"data": {"competitorDiscoveries": {"edges": []}}}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_fragment_doubling_document_is_refused_before_execution(
    app: FastAPI, http: httpx.AsyncClient, method: str
) -> None:
    # given 1.6 KB that expands to 2^40 selections, sent anonymously
    # when it is posted, or sent as a query over GET
    with counted_statements(app) as statements:
        if method == "POST":
            response = await http.post("/graphql", json={"query": FRAGMENT_BOMB})
        else:
            response = await http.get("/graphql", params={"query": FRAGMENT_BOMB})
    # then it is refused by the selection limit, naming it, and nothing ran
    error = assert_rejected_before_execution(
        response, "MAX_RECURSIVE_SELECTIONS_EXCEEDED", statements
    )
    assert error["extensions"]["maxSelections"] == 10_000
    assert error["extensions"]["selections"] > 10_000
    assert "10000" in error["message"]


async def test_a_chain_too_long_to_validate_is_refused_with_a_code(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    # given 230 fragments, each spreading the one before (within the token limit)
    # when it is posted
    with counted_statements(app) as statements:
        response = await http.post("/graphql", json={"query": fragment_chain(230)})
    # then graphql-core's giving up is answered as a refusal with a code, and nothing ran
    error = assert_rejected_before_execution(response, "QUERY_TOO_COMPLEX", statements)
    assert error["message"] == "The document is too complex to validate; simplify it."


async def test_fragments_spread_within_the_selection_limit_run(graphql: GraphQLClient) -> None:
    # given a document whose fragments expand to 3,071 selections (under 10,000)
    data = await graphql.execute(fragment_doubling(10))
    # then it runs: the limit refuses expansion, not fragments
    assert data == {"__typename": "Query"}


async def test_a_mutation_over_the_cost_changes_nothing(
    app: FastAPI, graphql: GraphQLClient
) -> None:
    # when ten aliased discoveries (102 each) are sent in one mutation
    with counted_statements(app) as statements:
        response = await graphql.post(MUTATION_COST_BOMB)
    assert_rejected_before_execution(response, "MAX_COST_EXCEEDED", statements)
    # then no discovery was made
    assert await graphql.execute(DISCOVERIES) == {"competitorDiscoveries": {"edges": []}}


async def test_the_standard_introspection_query_passes_at_the_defaults(
    graphql: GraphQLClient,
) -> None:
    data = await graphql.execute(INTROSPECTION)
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_a_deep_introspection_bomb_is_refused_without_a_token(
    graphql: GraphQLClient,
) -> None:
    # given no token: introspection is open, so it must be limited too
    response = await graphql.as_user(None).post("{ " + nested_types(30) + " }")
    assert set(codes(response)) == {"QUERY_TOO_DEEP"}
    assert response.json().get("data") is None


async def test_a_document_nested_past_the_parser_is_refused_unexecuted(
    app: FastAPI, graphql: GraphQLClient
) -> None:
    # given nesting far past anything valid (graphql-core stops parsing it)
    bomb = "{ viewer " + "{ onboarding " * 400 + "{ id" + " }" * 402
    with counted_statements(app) as statements:
        response = await graphql.post(bomb)
    # then it is answered as an error with no data, and nothing ran
    assert response.json().get("data") is None
    assert statements == []


@pytest.mark.parametrize(
    ("setting", "value", "query", "code"),
    [
        ("max_query_depth", 3, DEEPEST_USER_QUERY, "QUERY_TOO_DEEP"),
        (
            "max_aliases",
            1,
            "{ a: viewer { id } b: viewer { id } }",
            "TOO_MANY_ALIASES",
        ),
        (
            "max_tokens",
            10,
            "{ viewer { id email onboarding { currentStep } } }",
            "TOO_MANY_TOKENS",
        ),
        ("max_query_cost", 5, "{ onboardingProgress { steps { number } } }", "MAX_COST_EXCEEDED"),
        (
            "max_recursive_selections",
            6,
            "{ viewer { ...Who onboarding { ...Step } } } fragment Who on Viewer { id email }"
            " fragment Step on OnboardingProgress { currentStep }",
            "MAX_RECURSIVE_SELECTIONS_EXCEEDED",
        ),
        (
            "overlapping_fields_budget",
            1,
            "{ viewer { id } viewer { email } }",
            "TOO_MANY_OVERLAPPING_FIELDS",
        ),
    ],
)
async def test_each_limit_is_configurable(
    settings: Settings, token_for: Any, setting: str, value: int, query: str, code: str
) -> None:
    # given a service with one limit lowered
    async with (
        running_app(settings.model_copy(update={setting: value})) as lowered,
        http_client_for(lowered) as http,
    ):
        client = GraphQLClient(http, token_for, "user-a")
        # when an ordinary query over that limit arrives / then that limit refuses it
        assert codes(await client.post(query)) == [code]
    # and at the default the same query runs
    async with running_app(settings) as default, http_client_for(default) as http:
        assert await GraphQLClient(http, token_for, "user-a").execute(query)
