"""NaN, Infinity, `1e400`, lone surrogates and NUL: refused with a clear error, never stored.

Python reads all of them; JSON cannot write a non-finite number, UTF-8 cannot
encode a lone surrogate and PostgreSQL text cannot hold NUL. In request JSON
they are a 400; in a document's literals they are a `VALIDATION_FAILED` at
their path (numbers) or a syntax error (strings); on both databases.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.request_json import UnrepresentableJSONError, loads_request_json
from db.engine import create_engine
from db.models import competitor_discoveries, onboarding_steps
from resolvers.json_input import MAX_JSON_DEPTH, MAX_REPORTED, json_problems
from tests.support.discovery import DISCOVER
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, STEP_DATA

GRAPHQL_RESPONSE = "application/graphql-response+json"
STEP_ONE_KEYS = json.dumps(STEP_DATA[1]["apiKeys"])  # type: ignore[index]
ERRORS = "userErrors { field code message }"

# Request bodies written by hand: `json.dumps` itself would refuse most of them.
COMPLETE_STEP_4 = json.dumps(
    "mutation($d: JSON) { completeOnboardingStep(input: {step: 4, data: $d}) { " + ERRORS + " } }"
)
DISCOVER_WITH = json.dumps(DISCOVER)
UNREPRESENTABLE_BODIES: dict[str, bytes] = {
    "NaN in step data": b'{"query": %s, "variables": {"d": {"x": NaN}}}' % COMPLETE_STEP_4.encode(),
    "Infinity": b'{"query": %s, "variables": {"d": {"x": Infinity}}}' % COMPLETE_STEP_4.encode(),
    "-Infinity": b'{"query": %s, "variables": {"d": [-Infinity]}}' % COMPLETE_STEP_4.encode(),
    "1e400": b'{"query": %s, "variables": {"d": {"x": 1e400}}}' % COMPLETE_STEP_4.encode(),
    "-1e400 deep": b'{"query": %s, "variables": {"d": {"a": [{"b": -1e400}]}}}'
    % COMPLETE_STEP_4.encode(),
    "lone surrogate in step data": b'{"query": %s, "variables": {"d": {"x": "\\ud800"}}}'
    % COMPLETE_STEP_4.encode(),
    "lone surrogate as a key": b'{"query": %s, "variables": {"d": {"\\udfff": 1}}}'
    % COMPLETE_STEP_4.encode(),
    "raw surrogate bytes": b'{"query": %s, "variables": {"d": {"x": "\xed\xa0\x80"}}}'
    % COMPLETE_STEP_4.encode(),
    "surrogate in userUrl": b'{"query": %s, "variables": {"input": {"userUrl": "https://a.com/\\ud800"}}}'
    % DISCOVER_WITH.encode(),
    "surrogate in industryContext": (
        b'{"query": %s, "variables": {"input": {"userUrl": "https://a.com", '
        b'"industryContext": "shoes \\udc00"}}}' % DISCOVER_WITH.encode()
    ),
    "surrogate in sessionId": (
        b'{"query": %s, "variables": {"input": {"userUrl": "https://a.com", '
        b'"sessionId": "\\ud800"}}}' % DISCOVER_WITH.encode()
    ),
    "surrogate in websiteAnalysisData": (
        b'{"query": %s, "variables": {"input": {"userUrl": "https://a.com", '
        b'"websiteAnalysisData": {"industry": "\\ud800"}}}}' % DISCOVER_WITH.encode()
    ),
    "surrogate in an id": b'{"query": "query($id: ID!) { competitorDiscovery(id: $id) { id } }", '
    b'"variables": {"id": "\\ud800"}}',
    "surrogate in a cursor": b'{"query": "query($a: String) { competitorDiscoveries(after: $a) '
    b'{ edges { cursor } } }", "variables": {"a": "\\ud800"}}',
    "surrogate in the document": b'{"query": "{ viewer { id } } # \\ud800"}',
    "surrogate in operationName": (
        b'{"query": "query A { viewer { id } }", "operationName": "\\ud800"}'
    ),
    "NaN in extensions": b'{"query": "{ viewer { id } }", "extensions": {"x": NaN}}',
}

# One literal per string argument: GraphQL's lexer refuses a lone surrogate escape.
SURROGATE_LITERALS: dict[str, str] = {
    "userUrl": f'mutation {{ discoverCompetitors(input: {{userUrl: "\\ud800"}}) {{ {ERRORS} }} }}',
    "industryContext": (
        'mutation { discoverCompetitors(input: {userUrl: "https://a.com", '
        f'industryContext: "\\ud800"}}) {{ {ERRORS} }} }}'
    ),
    "sessionId": '{ onboardingProgress(sessionId: "\\udbff") { currentStep } }',
    "id": '{ competitorDiscovery(id: "\\ud800") { id } }',
    "after": '{ competitorDiscoveries(after: "\\udc00") { edges { cursor } } }',
    "step data": (
        'mutation { completeOnboardingStep(input: {step: 1, data: {x: "\\ud800"}}) '
        f"{{ {ERRORS} }} }}"
    ),
}


async def stored(database_url: str) -> tuple[list[Any], int]:
    """Every step's raw `data` column and the number of discoveries, read with SQL."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            data = (await connection.execute(select(onboarding_steps.c.data))).scalars().all()
            count = (
                await connection.execute(select(func.count()).select_from(competitor_discoveries))
            ).scalar_one()
            return list(data), int(count)
    finally:
        await engine.dispose()


def signed_in(graphql: GraphQLClient, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {graphql.token_for('user-a')}", **headers}


def assert_bad_request(response: httpx.Response, case: str = "") -> None:
    assert response.status_code == 400, (case, response.text)
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_request_json_that_cannot_be_stored_is_a_400(
    graphql: GraphQLClient, database_url: str
) -> None:
    # given a signed-in client whose progress exists (so a stored step would show)
    await graphql.execute("{ onboardingProgress { currentStep } }")
    for case, body in UNREPRESENTABLE_BODIES.items():
        for accept in ("application/json", GRAPHQL_RESPONSE):
            # when the body carries a value JSON, UTF-8 or the database cannot hold
            response = await graphql.http.post(
                "/graphql",
                content=body,
                headers=signed_in(
                    graphql, **{"content-type": "application/json", "accept": accept}
                ),
            )
            # then it is refused as malformed, whatever media type the client reads
            assert_bad_request(response, case)
    # and nothing of it reached the database
    assert await stored(database_url) == ([None] * 6, 0)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("variables", ['{"n": NaN}', '{"n": 1e999}', '{"s": "\\ud800"}'])
async def test_get_variables_that_cannot_be_stored_are_a_400(
    graphql: GraphQLClient, variables: str
) -> None:
    # when a query over GET carries such a variable
    response = await graphql.http.get(
        "/graphql",
        params={"query": "{ viewer { id } }", "variables": variables},
        headers=signed_in(graphql, accept=GRAPHQL_RESPONSE),
    )
    # then it is a 400 like any malformed request
    assert_bad_request(response)


@pytest.mark.parametrize(
    ("literal", "path"),
    [
        ("x: 1e400", ["x"]),
        ("x: -1e400", ["x"]),
        ("x: 1" + "0" * 5000, ["x"]),
        ("a: [1, {b: 1e400}]", ["a", "1", "b"]),
    ],
)
async def test_a_number_literal_json_cannot_hold_is_a_validation_error_at_its_path(
    graphql: GraphQLClient, database_url: str, literal: str, path: list[str]
) -> None:
    # given step 1's valid keys, with a literal that becomes ±inf or NaN once parsed
    keys = ", ".join(f'{name}: "{key}"' for name, key in json.loads(STEP_ONE_KEYS).items())
    document = (
        f"mutation {{ completeOnboardingStep(input: {{step: 1, data: "
        f"{{apiKeys: {{{keys}}}, {literal}}}}}) {{ step {{ status }} {ERRORS} }} }}"
    )
    # when it is sent
    payload = (await graphql.execute(document))["completeOnboardingStep"]
    # then the step is not completed and the error points at the value
    assert payload["step"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["field"] == ["input", "data", *path]
    assert "finite number" in error["message"]
    # and the database holds no step data (reads keep working)
    assert await stored(database_url) == ([None] * 6, 0)
    progress = await graphql.execute("{ onboardingProgress { steps { status data } } }")
    assert progress["onboardingProgress"]["steps"][0] == {"status": "FAILED", "data": None}


async def test_a_website_analysis_literal_json_cannot_hold_is_a_validation_error(
    graphql: GraphQLClient, database_url: str
) -> None:
    document = (
        'mutation { discoverCompetitors(input: {userUrl: "https://a-shop.com", '
        "websiteAnalysisData: {scores: [0.5, 1e400]}}) { discovery { id } "
        f"{ERRORS} }} }}"
    )
    payload = (await graphql.execute(document))["discoverCompetitors"]
    assert payload["discovery"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "websiteAnalysisData", "scores", "1"], "VALIDATION_FAILED")
    ]
    assert await stored(database_url) == ([], 0)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("argument", list(SURROGATE_LITERALS))
async def test_a_lone_surrogate_escape_in_a_string_literal_is_a_syntax_error(
    graphql: GraphQLClient, database_url: str, argument: str
) -> None:
    # when a string literal holds an escaped lone surrogate
    document = SURROGATE_LITERALS[argument]
    strict = await graphql.post(document, headers={"accept": GRAPHQL_RESPONSE})
    legacy = await graphql.post(document)
    # then the document does not parse: 400 for GraphQL-over-HTTP clients, errors for legacy ones
    assert strict.status_code == 400, strict.text
    assert legacy.status_code == 200
    for response in (strict, legacy):
        body = response.json()
        assert body.get("data") is None
        assert "Invalid Unicode escape sequence" in body["errors"][0]["message"]
    assert await stored(database_url) == ([], 0)


async def test_nul_in_industry_context_is_a_validation_error_and_in_step_data_is_kept(
    graphql: GraphQLClient, database_url: str
) -> None:
    # when industryContext (a text column) and a URL carry NUL
    payload = (
        await graphql.execute(
            DISCOVER,
            {"input": {"userUrl": "https://a.com/\x00", "industryContext": "shoes\x00"}},
        )
    )["discoverCompetitors"]
    # then both are user errors at their fields, on PostgreSQL too (not a 500)
    assert {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]} == {
        (("input", "userUrl"), "VALIDATION_FAILED"),
        (("input", "industryContext"), "VALIDATION_FAILED"),
    }
    # and step data, which is JSON, keeps a NUL as the character it is
    data = {**(STEP_DATA[1] or {}), "note": "a\x00b"}
    done = (await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": data}}))[
        "completeOnboardingStep"
    ]
    assert done["userErrors"] == []
    assert done["step"]["data"]["note"] == "a\x00b"
    read = await graphql.execute("{ onboardingStep(number: 1) { data } }")
    assert read["onboardingStep"]["data"]["note"] == "a\x00b"


def test_the_decoder_keeps_what_json_can_carry() -> None:
    # given JSON with a surrogate pair, big integers, tiny floats and escapes
    text = '{"e": "\\ud83d\\ude00", "i": 10000000000000000000000, "f": 1e-400, "z": -0.0}'
    # then it decodes as `json` would
    assert loads_request_json(text) == json.loads(text)
    assert loads_request_json(text.encode("utf-16")) == json.loads(text)
    # and each value it cannot carry is refused with a reason
    for bad in ("NaN", "[Infinity]", '{"a": -Infinity}', "1e309", '["\\udc00"]', '{"\\ud800": 1}'):
        with pytest.raises(UnrepresentableJSONError):
            loads_request_json(bad)


def test_json_problems_reports_each_unstorable_value_once_and_stops_at_a_bound() -> None:
    value = {"a": float("nan"), "b": [1.0, float("inf")], "c\ud800": "ok", "d": "\udfff"}
    problems = json_problems(value, "data", ("input", "data"))
    assert [p.field for p in problems] == [
        ("input", "data", "a"),
        ("input", "data", "b", "1"),
        ("input", "data", "c\\ud800"),
        ("input", "data", "d"),
    ]
    # every message is text an answer can carry
    for problem in problems:
        problem.message.encode("utf-8")
    many = json_problems([float("inf")] * 1000, "data", ("input", "data"))
    assert len(many) == MAX_REPORTED


def test_json_nested_beyond_the_depth_limit_is_one_problem() -> None:
    # given data whose leaf is MAX_JSON_DEPTH keys and indices deep, and one deeper
    within: object = "leaf"
    for _ in range(MAX_JSON_DEPTH - 1):
        within = [within]
    beyond = [within]
    # then the first passes and the second is one problem at the value's own path
    assert json_problems({"a": within}, "data", ("input", "data")) == []
    [problem] = json_problems({"a": beyond}, "data", ("input", "data"))
    assert problem.field == ("input", "data")
    assert problem.message == "data is nested too deeply."
