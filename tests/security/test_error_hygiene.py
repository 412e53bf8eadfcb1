"""No response carries a traceback, SQL, a file path or a secret; failures carry a request id."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from app.settings import Settings
from tests.support.databases import drop_steps_table
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, GEMINI_KEY, STEP_DATA

LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|/work/|/tmp/|site-packages|sqlalchemy|asyncpg|aiosqlite|sqlite3"
    r"|SELECT |INSERT |UPDATE |DELETE FROM|onboarding_steps|BEGIN PRIVATE KEY",
    re.IGNORECASE,
)

ERRORS = "{ userErrors { code message field } }"


def discover(fields: str) -> dict[str, object]:
    return q(f"mutation {{ discoverCompetitors(input: {{{fields}}}) {ERRORS} }}")


def q(query: str, **more: object) -> dict[str, object]:
    return {"json": {"query": query, **more}}


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("not JSON", {"content": b"{not json"}),
    ("JSON that is not an object", {"content": b'"a string"'}),
    ("query not a string", {"json": {"query": 42}}),
    ("variables not an object", q("{ viewer { id } }", variables=[1])),
    ("syntax error", q("{ viewer { id ")),
    ("unknown field", q("{ password }")),
    (
        "wrong variable type",
        q("query($n: Int!) { onboardingStep(number: $n) { status } }", variables={"n": "one"}),
    ),
    ("int out of range", q("{ onboardingStep(number: 99999999999) { status } }")),
    ("unknown operation name", q("query A { viewer { id } }", operationName="B")),
    ("bad global id", q('{ competitorDiscovery(id: "../../etc/passwd") { id } }')),
    (
        "bad cursor",
        q('{ competitorDiscoveries(after: "\'; DROP TABLE x; --") { pageInfo { endCursor } } }'),
    ),
    (
        "first out of range",
        q("{ competitorDiscoveries(first: 100000) { pageInfo { endCursor } } }"),
    ),
    ("step out of range", q(f"mutation {{ skipOnboardingStep(input: {{step: -1}}) {ERRORS} }}")),
    ("huge numResults", discover('userUrl: "https://a.com", numResults: 1000000')),
    ("javascript URL", discover('userUrl: "javascript:alert(1)"')),
    (
        "step data not an object",
        q(f"mutation {{ completeOnboardingStep(input: {{step: 1, data: [1, 2]}}) {ERRORS} }}"),
    ),
    (
        "mutation over GET",
        {"method": "GET", "params": {"query": f"mutation {{ completeOnboarding {ERRORS} }}"}},
    ),
    ("unknown route", {"method": "GET", "url": "/graphql/../../etc/passwd"}),
]


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize("case", [name for name, _ in MALFORMED])
async def test_a_bad_request_answers_without_internals(graphql: GraphQLClient, case: str) -> None:
    # given a malformed or hostile request from a signed-in client
    request = dict(MALFORMED)[case]
    method = request.get("method", "POST")
    headers = {"authorization": f"Bearer {graphql.token_for('user-a')}"}
    if method == "POST":
        headers["content-type"] = "application/json"
    # when it is sent
    response = await graphql.http.request(
        method,
        request.get("url", "/graphql"),
        headers=headers,
        **{k: v for k, v in request.items() if k in {"json", "content", "params"}},
    )
    # then the answer is a client error, with no trace of how the server is built
    assert response.status_code < 500, response.text
    assert not LEAKS.search(response.text), response.text
    assert response.headers["x-request-id"]


async def test_step_one_secrets_never_come_back(graphql: GraphQLClient, settings: Settings) -> None:
    # given the viewer saved their API keys
    response = await graphql.post(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # then neither that answer nor any later read shows a key or the service's secret
    later = await graphql.post("{ viewer { onboarding { steps { data } } } }")
    assert settings.secret_key is not None
    for answer in (response.text, later.text):
        for key in STEP_DATA[1]["apiKeys"].values():  # type: ignore[index]
            assert key not in answer
        assert settings.secret_key.get_secret_value() not in answer
    steps = later.json()["data"]["viewer"]["onboarding"]["steps"]
    assert steps[0]["data"]["apiKeys"]["gemini"] == "••••" + GEMINI_KEY[-4:]


@pytest.mark.parametrize(
    "query",
    [
        "{ onboardingProgress { currentStep } }",
        "{ viewer { onboarding { steps { status } } } }",
        "mutation { skipOnboardingStep(input: {step: 4}) { userErrors { code } } }",
        "mutation { resetOnboarding(input: {hard: true}) { userErrors { code } } }",
    ],
)
async def test_an_unexpected_failure_carries_the_request_id_the_log_has(
    graphql: GraphQLClient, database_url: str, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    # given a database whose tables are gone (every statement fails)
    await drop_steps_table(database_url)
    # when a query or mutation fails unexpectedly (no request id offered by the client)
    with caplog.at_level(logging.ERROR):
        response = await graphql.post(query)
    # then the client gets a masked error with the request id of its response header
    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert not LEAKS.search(response.text), response.text
    # and the server logged the cause under that id
    logged = [
        record for record in caplog.records if getattr(record, "request_id", None) == request_id
    ]
    assert any(record.exc_info for record in logged)


async def test_a_401_and_a_413_carry_request_ids_too(graphql: GraphQLClient) -> None:
    refused = await graphql.http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"authorization": "Bearer a.b.c"}
    )
    too_large = await graphql.http.post(
        "/graphql", content=b" " * (2 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    for response in (refused, too_large):
        assert response.headers["x-request-id"]
        assert not LEAKS.search(response.text)
