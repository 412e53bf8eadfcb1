"""`discoverCompetitors` input checks, old clients' `sessionId`, and the per-user rate limit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.app import settings_with
from tests.support.discovery import DISCOVER, discover
from tests.support.graphql import GraphQLClient

PER_MINUTE = 3


settings = settings_with(discoveries_per_minute=PER_MINUTE)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("userUrl", "ftp://example.com"),
        ("userUrl", "not a url"),
        ("userUrl", ""),
        ("userUrl", "https://localhost"),
        ("userUrl", "http://127.0.0.1/"),
        ("userUrl", "javascript:alert(1)"),
        ("numResults", 0),
        ("numResults", 101),
        ("numResults", -5),
        ("industryContext", "x" * 201),
        ("websiteAnalysisData", {"notes": "x" * (256 * 1024)}),
        ("websiteAnalysisData", ["not", "an", "object"]),
        ("websiteAnalysisData", "DROP TABLE competitor_discoveries"),
    ],
)
async def test_each_bad_input_is_a_user_error_at_its_field(
    graphql: GraphQLClient, field: str, value: Any
) -> None:
    # when a discovery is asked with one bad field
    response = await graphql.post(
        DISCOVER, {"input": {"userUrl": "https://www.my-little-shop.com", field: value}}
    )
    # then the answer is a user error at that field, with HTTP 200 and no discovery
    assert response.status_code == 200
    payload = response.json()["data"]["discoverCompetitors"]
    assert payload["discovery"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", field], "VALIDATION_FAILED")
    ]


async def test_every_bad_field_is_reported_at_once(graphql: GraphQLClient) -> None:
    # when every field is wrong
    payload = await discover(
        graphql,
        userUrl="ftp://nope",
        numResults=500,
        industryContext="y" * 300,
        websiteAnalysisData=42,
    )
    # then each is reported
    assert {tuple(error["field"]) for error in payload["userErrors"]} == {
        ("input", "userUrl"),
        ("input", "numResults"),
        ("input", "industryContext"),
        ("input", "websiteAnalysisData"),
    }


async def test_a_url_without_scheme_gets_https_and_limits_are_inclusive(
    graphql: GraphQLClient,
) -> None:
    # when the URL has no scheme, numResults is 100 and the industry exactly 200 characters
    payload = await discover(
        graphql, userUrl="Shop.Example.co.uk/about", numResults=100, industryContext="z" * 200
    )
    # then it is accepted and normalised
    assert payload["userErrors"] == []
    assert payload["discovery"]["userUrl"] == "https://shop.example.co.uk/about"
    assert payload["discovery"]["domain"] == "example.co.uk"
    assert payload["discovery"]["requestedResults"] == 100


async def test_a_legacy_session_id_changes_nothing(graphql: GraphQLClient) -> None:
    # given a discovery made without sessionId
    plain = await discover(graphql)
    # when an old client sends someone else's sessionId with the same request
    legacy = await discover(graphql, sessionId="someone-else")
    # then it is the same discovery (from the cache), and sessionId is the viewer's id
    assert legacy["userErrors"] == []
    assert legacy["discovery"]["id"] == plain["discovery"]["id"]
    assert legacy["discovery"]["cached"] is True
    assert legacy["sessionId"] == plain["sessionId"] == "user-a"


async def test_new_discoveries_beyond_the_limit_are_rate_limited(graphql: GraphQLClient) -> None:
    # given as many new discoveries as the limit allows in a minute
    for n in range(PER_MINUTE):
        assert (await discover(graphql, numResults=n + 1))["userErrors"] == []
    # when a cache hit and then one more new discovery are asked for
    hit = await discover(graphql, numResults=1)
    over = await discover(graphql, numResults=PER_MINUTE + 1)
    # then the cache hit does not count, the new one is refused with the wait in seconds
    assert hit["discovery"]["cached"] is True
    assert over["discovery"] is None
    [error] = over["userErrors"]
    assert error["code"] == "RATE_LIMITED"
    wait = re.search(r"try again in (\d+) seconds", error["message"])
    assert wait is not None
    assert 1 <= int(wait.group(1)) <= 60
    # and another user is not limited by it
    other = await discover(graphql.as_user("user-b"), numResults=PER_MINUTE + 1)
    assert other["userErrors"] == []
