"""The /graphql endpoint's own choices: exact JSON both ways, 405 for other methods."""

from __future__ import annotations

import json

import httpx
import pytest

from app.graphql_http import RequestRefusedError, loads_request_body
from db.stored_json import encode_stored_json
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA

HUGE = 123456789012345678901234567890  # past 64 bits: orjson would read a float, and not write it


async def test_a_huge_integer_in_step_data_comes_back_exactly(graphql: GraphQLClient) -> None:
    # given step 1 done
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # when step 2 is completed with a number too big for 64 bits and some non-ASCII text
    data = {"website": "https://acme-shop.com", "visitors": HUGE, "tagline": "Ünïcode ✓ 😀"}
    payload = await graphql.execute(COMPLETE_STEP, {"input": {"step": 2, "data": data}})
    # then the stored data is answered exactly as it was sent, digit for digit
    assert payload["completeOnboardingStep"]["step"]["data"] == data
    # and reads back so from the database
    progress = await graphql.execute(PROGRESS)
    steps = progress["onboardingProgress"]["steps"]
    assert [step["data"] for step in steps if step["number"] == 2] == [data]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
async def test_methods_other_than_get_and_post_are_405(
    http: httpx.AsyncClient, method: str
) -> None:
    response = await http.request(method, "/graphql", headers={"accept": "application/json"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "variables": {"a": [1, 2.5, "x", null, true]}}',
        b'{"a": "\\ud83d\\ude00", "b": -0, "c": 1e-7, "d": {"e": {}}}',
        json.dumps({"n": HUGE, "f": 1.5}).encode(),
    ],
)
def test_request_json_reads_as_the_standard_library_reads_it(body: bytes) -> None:
    assert loads_request_body(body) == json.loads(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": NaN}', "The JSON contains NaN; only finite numbers are accepted."),
        (b'{"a": 1e400}', "The JSON contains the number 1e400, too large for a 64-bit float."),
        (b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"a": ', "The request body is not valid UTF-8 JSON."),
        (b"\xff\xfe", "The request body is not valid UTF-8 JSON."),
    ],
)
def test_request_json_is_refused_with_the_same_reasons(body: bytes, message: str) -> None:
    with pytest.raises(RequestRefusedError) as refused:
        loads_request_body(body)
    assert refused.value.status == 400
    assert message in refused.value.message


def test_response_json_is_compact_utf8_and_exact() -> None:
    response = {"data": {"n": HUGE, "s": "••••1234", "f": 0.1}}
    encoded = encode_stored_json(response)
    assert json.loads(encoded) == response
    assert "••••1234".encode() in encoded
    assert encode_stored_json({"data": None}) == b'{"data":null}'
