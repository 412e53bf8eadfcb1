"""DESIGN §9/§11 at the HTTP door: body size (413), content types (415), no batching (400)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import ANY

import pytest

from app.settings import Settings
from tests.support.app import serving, settings_with
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COPILOTKIT_KEY, EXA_KEY, GEMINI_KEY

COMPLETE_STEP_1 = (
    "mutation { completeOnboardingStep(input: {step: 1, data: {apiKeys: {"
    f'gemini: "{GEMINI_KEY}", exa: "{EXA_KEY}", copilotkit: "{COPILOTKIT_KEY}"'
    "}}}) { step { status } } }"
)
STEP_1_STATUS = "{ onboardingStep(number: 1) { status } }"
MAX_BODY = 4096


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


settings = settings_with(max_body_bytes=MAX_BODY)


def body_of_size(size: int) -> bytes:
    """A valid GraphQL request body of exactly `size` bytes (padded in a variable)."""
    empty = json.dumps({"query": "{ viewer { id } }", "variables": {"pad": ""}})
    padded = json.dumps(
        {"query": "{ viewer { id } }", "variables": {"pad": "x" * (size - len(empty))}}
    )
    assert len(padded) == size
    return padded.encode()


def auth(graphql: GraphQLClient, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {graphql.token_for('user-a')}", **headers}


async def test_a_body_at_the_limit_is_answered(graphql: GraphQLClient) -> None:
    response = await graphql.http.post(
        "/graphql",
        content=body_of_size(MAX_BODY),
        headers=auth(graphql, **{"content-type": "application/json"}),
    )
    assert response.json() == {"data": {"viewer": {"id": "user-a"}}}


async def test_a_body_over_the_limit_gets_413(graphql: GraphQLClient) -> None:
    response = await graphql.http.post(
        "/graphql",
        content=body_of_size(MAX_BODY + 1),
        headers=auth(graphql, **{"content-type": "application/json"}),
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_without_length_is_cut_at_the_limit(graphql: GraphQLClient) -> None:
    # given a client that sends the body in chunks and no Content-Length
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1024

    response = await graphql.http.post(
        "/graphql", content=chunks(), headers=auth(graphql, **{"content-type": "application/json"})
    )
    # then the middleware counts what arrives and refuses it
    assert response.status_code == 413


async def test_reading_stops_at_the_limit(graphql: GraphQLClient) -> None:
    # given a client that would stream a thousand 1 KiB chunks, with no Content-Length
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b" " * 1024

    response = await graphql.http.post(
        "/graphql", content=chunks(), headers=auth(graphql, **{"content-type": "application/json"})
    )
    # then it is refused as soon as the limit is passed: the rest is never read
    assert response.status_code == 413
    assert pulled == MAX_BODY // 1024 + 1


async def test_the_default_limit_is_one_mebibyte(settings: Settings) -> None:
    assert Settings.model_fields["max_body_bytes"].default == 1024 * 1024
    async with serving(settings.model_copy(update={"max_body_bytes": 1024 * 1024})) as http:
        response = await http.post(
            "/graphql",
            content=b"{" + b" " * (1024 * 1024) + b"}",
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps({"query": COMPLETE_STEP_1})),
        ("text/plain;charset=UTF-8", json.dumps({"query": COMPLETE_STEP_1})),
        ("application/x-www-form-urlencoded", "query=" + COMPLETE_STEP_1),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            f"{COMPLETE_STEP_1}\r\n--x--\r\n",
        ),
        ("application/graphql", COMPLETE_STEP_1),
        ("application/json-patch+json", json.dumps({"query": COMPLETE_STEP_1})),
        ("application/json; charset=latin-1", json.dumps({"query": COMPLETE_STEP_1})),
        (None, json.dumps({"query": COMPLETE_STEP_1})),
    ],
)
async def test_a_post_that_is_not_json_gets_415_and_changes_nothing(
    graphql: GraphQLClient, content_type: str | None, body: str
) -> None:
    # given a mutation in a body a cross-site form or simple request could send
    headers = auth(graphql)
    if content_type is not None:
        headers["content-type"] = content_type
    # when it is posted
    response = await graphql.http.post("/graphql", content=body.encode(), headers=headers)
    # then it is refused before GraphQL sees it, and step 1 was not completed
    assert response.status_code == 415
    assert response.headers["accept-post"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert await graphql.execute(STEP_1_STATUS) == {"onboardingStep": {"status": "PENDING"}}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_json_posts_are_answered(graphql: GraphQLClient, content_type: str) -> None:
    response = await graphql.post(COMPLETE_STEP_1, headers={"content-type": content_type})
    assert response.json() == {
        "data": {"completeOnboardingStep": {"step": {"status": "COMPLETED"}}}
    }


async def test_get_answers_queries_but_never_runs_mutations(graphql: GraphQLClient) -> None:
    query = await graphql.http.get(
        "/graphql", params={"query": STEP_1_STATUS}, headers=auth(graphql)
    )
    assert query.json() == {"data": {"onboardingStep": {"status": "PENDING"}}}
    mutation = await graphql.http.get(
        "/graphql", params={"query": COMPLETE_STEP_1}, headers=auth(graphql)
    )
    assert mutation.status_code >= 400
    assert await graphql.execute(STEP_1_STATUS) == {"onboardingStep": {"status": "PENDING"}}


async def test_batching_is_not_enabled(graphql: GraphQLClient) -> None:
    # given a JSON array of operations (a batch)
    batch: list[dict[str, Any]] = [{"query": COMPLETE_STEP_1}, {"query": STEP_1_STATUS}]
    response = await graphql.http.post(
        "/graphql", json=batch, headers=auth(graphql, **{"content-type": "application/json"})
    )
    # then it is refused as a malformed request and nothing ran
    assert response.status_code == 400
    assert await graphql.execute(STEP_1_STATUS) == {"onboardingStep": {"status": "PENDING"}}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/graphql-response+json", "application/graphql-response+json"),
        ("application/json", "application/json"),
        (None, "application/json"),
    ],
)
async def test_a_refusal_at_the_door_answers_in_the_media_type_the_client_accepts(
    graphql: GraphQLClient, accept: str | None, media_type: str
) -> None:
    # given a client that says which media type it reads (or does not)
    headers = auth(graphql, **({"accept": accept} if accept else {}))
    # when its body is too large, or not JSON
    too_large = await graphql.http.post(
        "/graphql",
        content=body_of_size(MAX_BODY + 1),
        headers={**headers, "content-type": "application/json"},
    )
    not_json = await graphql.http.post(
        "/graphql", content=b"query=x", headers={**headers, "content-type": "text/plain"}
    )
    # then both refusals are GraphQL error bodies in that media type, with the same codes
    assert (too_large.status_code, not_json.status_code) == (413, 415)
    for response, code in ((too_large, "PAYLOAD_TOO_LARGE"), (not_json, "UNSUPPORTED_MEDIA_TYPE")):
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.json() == {"errors": [{"message": ANY, "extensions": {"code": code}}]}
