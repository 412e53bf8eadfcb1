"""DESIGN §9: GraphQL over HTTP — media types, status codes, GET, and request errors.

A client that accepts `application/graphql-response+json` gets the spec's
status codes; a legacy `application/json` client keeps 200 with `errors` for
anything that was read as a GraphQL request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.error_responses import response_media_type
from app.settings import Settings
from tests.support.app import serving
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, STEP_DATA
from tests.support.server_process import free_port

NEW = "application/graphql-response+json"
LEGACY = "application/json"

VIEWER = "{ viewer { id } }"
TYPENAME = "{ __typename }"
UNPARSABLE = "{ viewer {"
INVALID = "{ noSuchField }"
NEEDS_ID = "query Step($n: Int!) { onboardingStep(number: $n) { number } }"
RESET = "mutation { resetOnboarding { progress { currentStep } } }"


# HTTP framing does not depend on the database: SQLite alone keeps these fast.
pytestmark = pytest.mark.sqlite_only


def media_type_of(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    """The status, the media type and the first error's code."""
    return (
        response.status_code,
        media_type_of(response),
        errors_of(response)[0]["extensions"]["code"],
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, LEGACY),
        ("", LEGACY),
        ("*/*", LEGACY),
        ("application/json", LEGACY),
        (NEW, NEW),
        (f"{NEW}, application/json;q=0.9", NEW),
        (f"application/json, {NEW}", NEW),
        (f"{NEW};q=0.5, application/json", LEGACY),
        (f"{NEW};q=0", LEGACY),
        ("text/html", LEGACY),
    ],
)
def test_the_response_media_type_follows_accept(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


async def test_a_query_answers_200_in_the_media_type_asked_for(graphql: GraphQLClient) -> None:
    for accept in (NEW, LEGACY):
        response = await graphql.post(VIEWER, headers={"accept": accept})
        assert response.status_code == 200
        assert media_type_of(response) == accept
        assert response.json() == {"data": {"viewer": {"id": "user-a"}}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [(UNPARSABLE, None), (INVALID, None), (NEEDS_ID, {"n": "three"}), (NEEDS_ID, {})],
    ids=["parse error", "validation error", "wrong variable type", "missing variable"],
)
@pytest.mark.parametrize(
    ("accept", "status", "besides_errors"),
    [(NEW, 400, {}), (LEGACY, 200, {"data": None})],
    ids=["new clients get 400 without data", "legacy clients keep 200 with null data"],
)
async def test_a_document_that_cannot_run_is_answered_with_errors_as_each_client_expects(
    graphql: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None,
    accept: str,
    status: int,
    besides_errors: dict[str, Any],
) -> None:
    response = await graphql.post(query, variables, headers={"accept": accept})
    assert response.status_code == status
    assert media_type_of(response) == accept
    assert errors_of(response)
    body = response.json()
    del body["errors"]
    assert body == besides_errors


async def test_a_field_error_is_200_with_data_for_new_clients_too(graphql: GraphQLClient) -> None:
    # given no token / when a user field is read
    response = await graphql.as_user(None).post(VIEWER, headers={"accept": NEW})
    # then it executed: 200, `data` present (null), the error has a path
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("accept", [NEW, LEGACY])
@pytest.mark.parametrize(
    "body",
    [
        b'{ "query": ',
        b"",
        b"null",
        b"42",
        b'[{"query": "{ __typename }"}]',
        b'{"query": 42}',
        b'{"query": "{ __typename }", "variables": "x"}',
        b'{"query": "{ __typename }", "operationName": 0}',
        b'{"query": "{ __typename }", "extensions": []}',
        b'{"query": "\xff"}',
        b'{"qeury": "{ __typename }"}',
    ],
    ids=[
        "truncated JSON",
        "empty",
        "null",
        "number",
        "batch",
        "numeric query",
        "string variables",
        "numeric operationName",
        "array extensions",
        "not UTF-8",
        "no query",
    ],
)
async def test_a_malformed_request_is_400_with_a_graphql_error(
    http: httpx.AsyncClient, body: bytes, accept: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json", "accept": accept}
    )
    assert refusal(response) == (400, accept, "BAD_REQUEST")


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_a_body_nested_too_deeply_for_the_json_parser_is_400_not_500(
    http: httpx.AsyncClient, accept: str
) -> None:
    nested = "[" * 50_000 + "]" * 50_000
    body = '{"query": "{ __typename }", "variables": {"v": ' + nested + "}}"
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json", "accept": accept}
    )
    assert response.status_code == 400
    assert errors_of(response)[0]["message"] == "The JSON is nested too deeply to parse."


async def test_a_nested_body_the_parser_can_read_still_works(http: httpx.AsyncClient) -> None:
    nested = json.loads("[" * 200 + "]" * 200)
    response = await http.post(
        "/graphql",
        json={"query": TYPENAME, "extensions": {"v": nested}},
        headers={"accept": NEW},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_queries_work_over_get(graphql: GraphQLClient, accept: str) -> None:
    response = await graphql.http.get(
        "/graphql",
        params={
            "query": "query ($n: Int!) { onboardingStep(number: $n) { number } }",
            "variables": json.dumps({"n": 2}),
        },
        headers=graphql.signed({"accept": accept}),
    )
    assert response.status_code == 200
    assert media_type_of(response) == accept
    assert response.json() == {"data": {"onboardingStep": {"number": 2}}}


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_a_mutation_over_get_is_405_and_not_run(graphql: GraphQLClient, accept: str) -> None:
    # given a user on step 2
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # when a reset is sent over GET
    response = await graphql.http.get(
        "/graphql", params={"query": RESET}, headers=graphql.signed({"accept": accept})
    )
    # then it is refused with the method to use, and nothing was reset
    assert refusal(response) == (405, accept, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    progress = await graphql.execute("{ onboardingProgress { currentStep } }")
    assert progress["onboardingProgress"]["currentStep"] == 2


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_an_invalid_token_is_401_in_either_media_type(
    http: httpx.AsyncClient, accept: str
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": TYPENAME},
        headers={"accept": accept, "authorization": "Bearer not-a-jwt"},
    )
    assert refusal(response) == (401, accept, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "data" not in response.json()


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_unreachable_signing_keys_are_503_in_either_media_type(
    settings: Settings, token_for: Any, accept: str
) -> None:
    # given an issuer whose JWKS endpoint has never answered (nothing listens there)
    unreachable = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    async with serving(settings.model_copy(update={"jwks_url": unreachable})) as http:
        user_a = GraphQLClient(http, token_for, "user-a")
        response = await user_a.post(VIEWER, headers={"accept": accept})
    assert refusal(response) == (503, accept, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("accept", [NEW, LEGACY])
async def test_a_database_that_cannot_be_opened_is_503_with_retry_after(
    settings: Settings, tmp_path: Path, token_for: Any, accept: str
) -> None:
    # given an app whose SQLite file cannot be opened (its directory does not exist)
    missing = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"
    async with serving(settings.model_copy(update={"database_url": missing})) as http:
        # when a signed-in user asks for their progress
        user_a = GraphQLClient(http, token_for, "user-a")
        response = await user_a.post(
            "{ viewer { id onboarding { currentStep } } }", headers={"accept": accept}
        )
    # then the whole response says the service is unavailable for now, and when to retry
    assert refusal(response) == (503, accept, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert [error["extensions"]["code"] for error in errors_of(response)] == ["SERVICE_UNAVAILABLE"]
