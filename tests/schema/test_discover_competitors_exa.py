"""`discoverCompetitors` through the API with the Exa provider, against a fake Exa on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from app.settings import Settings
from tests.support.discovery import DISCOVER, EXA_KEY, exa_api
from tests.support.fake_exa import FakeExaConfig
from tests.support.graphql import GraphQLClient

KEY = EXA_KEY
ACME = {"userUrl": "https://www.acme.com/shop", "industryContext": "e-commerce"}


async def post_discover(graphql: GraphQLClient, **fields: Any) -> tuple[httpx.Response, Any]:
    response = await graphql.post(DISCOVER, {"input": {**ACME, **fields}})
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return response, response.json()["data"]["discoverCompetitors"]


async def test_asking_for_25_gives_25_competitors_none_on_the_users_site(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a fake Exa whose pages include acme.com and blog.acme.com
    async with exa_api(settings, token_for, FakeExaConfig(api_key=KEY)) as (graphql, fake, _):
        # when 25 competitors are asked for acme.com
        response, payload = await post_discover(graphql, numResults=25)
        first_call = fake.calls("/findSimilar")[0]
    # then 25 distinct competitors come back and none is on acme.com
    assert response.status_code == 200
    assert payload["userErrors"] == []
    found = payload["discovery"]
    assert found["provider"] == "exa"
    assert found["requestedResults"] == 25
    assert found["shortfall"] == 0
    domains = [competitor["domain"] for competitor in found["competitors"]]
    assert len(domains) == len(set(domains)) == 25
    assert not any("acme.com" in competitor["url"] for competitor in found["competitors"])
    assert found["researchSummary"]["totalCompetitors"] == 25
    # and Exa was asked with the key, the user's domain excluded and the contents options
    assert first_call.headers["x-api-key"] == KEY
    assert "acme.com" in first_call.body["excludeDomains"]
    assert set(first_call.body["contents"]) == {"text", "highlights", "summary"}


async def test_two_429s_then_success(settings: Settings, token_for: Callable[[str], str]) -> None:
    # given a fake that throttles the first two calls
    config = FakeExaConfig(api_key=KEY, leading_429s=2, retry_after="0")
    async with exa_api(settings, token_for, config) as (graphql, fake, _):
        # when discovering
        response, payload = await post_discover(graphql, numResults=5)
        calls = len(fake.calls("/findSimilar"))
    # then the retries succeed (two throttled calls, then the answered ones)
    assert response.status_code == 200
    assert payload["userErrors"] == []
    assert len(payload["discovery"]["competitors"]) == 5
    assert calls >= 3


async def test_persistent_500s_answer_provider_unavailable_with_http_200(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a fake that always fails
    config = FakeExaConfig(api_key=KEY, always_500=True)
    async with exa_api(settings, token_for, config) as (graphql, _, _):
        # when discovering
        response, payload = await post_discover(graphql)
    # then the client gets a user error, not a server error
    assert response.status_code == 200
    assert "errors" not in response.json()
    assert payload["discovery"] is None
    assert [error["code"] for error in payload["userErrors"]] == ["PROVIDER_UNAVAILABLE"]


async def test_a_slow_provider_is_unavailable_within_the_timeout_plus_a_second(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a fake slower than the 1 s provider timeout
    config = FakeExaConfig(api_key=KEY, delay=5.0)
    async with exa_api(settings, token_for, config) as (graphql, _, _):
        # when discovering
        started = time.monotonic()
        response, payload = await post_discover(graphql)
        elapsed = time.monotonic() - started
    # then it gives up in time
    assert elapsed < 2.0
    assert response.status_code == 200
    assert [error["code"] for error in payload["userErrors"]] == ["PROVIDER_UNAVAILABLE"]


async def test_a_rejected_key_is_provider_misconfigured(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a fake that expects another key
    config = FakeExaConfig(api_key="the-real-key")
    async with exa_api(settings, token_for, config) as (graphql, _, _):
        # when discovering
        response, payload = await post_discover(graphql)
    # then the error says the provider is misconfigured, without the key
    assert response.status_code == 200
    assert [error["code"] for error in payload["userErrors"]] == ["PROVIDER_MISCONFIGURED"]
    assert KEY not in response.text


async def test_messy_social_answers_come_out_as_urls_or_null(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a fake whose social search answers "", true, 1, relative paths and bare hosts
    async with exa_api(settings, token_for, FakeExaConfig(api_key=KEY)) as (graphql, _, _):
        # when discovering
        _, payload = await post_discover(graphql, numResults=3)
    # then every account is an https URL on its own network, or null
    accounts = payload["discovery"]["socialMediaAccounts"]
    assert accounts == {
        "facebook": None,
        "twitter": "https://twitter.com/acme",
        "instagram": "https://instagram.com/acme",
        "linkedin": "https://www.linkedin.com/company/acme",
        "youtube": None,
        "tiktok": None,
    }
    cited = {citation["url"] for citation in payload["discovery"]["socialMediaCitations"]}
    assert cited == {url for url in accounts.values() if url is not None}


async def test_a_cache_hit_makes_no_provider_call(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given one discovery made through Exa
    async with exa_api(settings, token_for, FakeExaConfig(api_key=KEY)) as (graphql, fake, _):
        _, first = await post_discover(graphql, numResults=5)
        calls_before = len(fake.requests)
        # when the identical request is made again
        _, again = await post_discover(graphql, numResults=5)
        calls_after = len(fake.requests)
    # then the stored discovery answers and Exa is not asked
    assert again["discovery"]["cached"] is True
    assert again["discovery"]["id"] == first["discovery"]["id"]
    assert calls_after == calls_before
