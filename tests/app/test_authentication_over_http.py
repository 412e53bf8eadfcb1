"""DESIGN §5 over HTTP: who may ask, and what a refused token looks like on the wire."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.support.app import serving
from tests.support.jwks_server import JWKSServer, SigningKey, mint
from tests.support.token_attacks import ATTACKS, Keys, assert_refused

VIEWER = "{ viewer { id } }"
INTROSPECT_QUERY_TYPE = "{ __schema { queryType { name } } }"


async def ask(http: httpx.AsyncClient, token: str | None, query: str = VIEWER) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_a_valid_token_names_the_viewer(
    http: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    response = await ask(http, mint(signing_key, sub="user_2abc"))
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"id": "user_2abc"}}}


# A refused token never reaches the database, so one engine is enough here.
@pytest.mark.sqlite_only
@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_bad_token_is_refused_with_401_and_no_data(
    http: httpx.AsyncClient, forgery_keys: Keys, attack: str
) -> None:
    # given a forged or broken token (or Authorization header) / when it is used
    response = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": ATTACKS[attack](forgery_keys)}
    )
    # then the whole request is refused, never treated as anonymous
    assert_refused(response)


async def test_a_token_30_seconds_past_expiry_is_accepted_within_leeway(
    http: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    response = await ask(http, mint(signing_key, exp=int(time.time()) - 30))
    assert response.json() == {"data": {"viewer": {"id": "user-a"}}}


async def test_the_authorized_party_is_checked_when_configured(
    settings: Settings, signing_key: SigningKey
) -> None:
    # given a service that accepts tokens only for https://app.example.com
    configured = settings.model_copy(update={"authorized_parties": ["https://app.example.com"]})
    async with serving(configured) as http:
        # then a token for that party works, one for another party or none does not
        good = await ask(http, mint(signing_key, azp="https://app.example.com"))
        assert good.json() == {"data": {"viewer": {"id": "user-a"}}}
        assert_refused(await ask(http, mint(signing_key, azp="https://evil.example.com")))
        assert_refused(await ask(http, mint(signing_key)))


async def test_a_rotated_key_is_accepted_after_one_refetch(
    http: httpx.AsyncClient, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given the service has the issuer's key set cached
    assert (await ask(http, mint(signing_key))).status_code == 200
    fetches = jwks_server.fetch_count
    # when the issuer rotates to a new key and a token signed with it arrives
    new_key = SigningKey.generate("rotated-key")
    jwks_server.keys.append(new_key)
    response = await ask(http, mint(new_key, sub="user-rotated"))
    # then it is accepted after exactly one refetch
    assert response.json() == {"data": {"viewer": {"id": "user-rotated"}}}
    assert jwks_server.fetch_count == fetches + 1


async def test_an_unknown_kid_storm_costs_at_most_one_fetch(
    http: httpx.AsyncClient, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given a warm cache
    assert (await ask(http, mint(signing_key))).status_code == 200
    fetches = jwks_server.fetch_count
    # when 50 tokens with unknown kids arrive at once
    strangers = [mint(signing_key, headers={"kid": f"unknown-{n}"}) for n in range(50)]
    responses = await asyncio.gather(*(ask(http, token) for token in strangers))
    # then all are refused and the issuer was asked at most once more
    for response in responses:
        assert_refused(response)
    assert jwks_server.fetch_count <= fetches + 1


async def test_cached_keys_keep_working_while_the_issuer_is_down(
    http: httpx.AsyncClient, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given a warm cache / when the issuer's JWKS endpoint goes away
    assert (await ask(http, mint(signing_key))).status_code == 200
    jwks_server.stop()
    # then tokens signed with the cached key still verify
    response = await ask(http, mint(signing_key, sub="still-here"))
    assert response.json() == {"data": {"viewer": {"id": "still-here"}}}


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { id } }",
        "{ onboardingProgress { currentStep } }",
        "{ onboardingStep(number: 1) { status } }",
        "mutation { skipOnboardingStep(input: {step: 4}) { userErrors { code } } }",
        "mutation { completeOnboarding { userErrors { code } } }",
    ],
)
async def test_without_a_token_user_fields_answer_unauthenticated(
    http: httpx.AsyncClient, query: str
) -> None:
    response = await ask(http, None, query)
    body: dict[str, Any] = response.json()
    assert not any((body["data"] or {}).values())
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_without_a_token_introspection_works(http: httpx.AsyncClient) -> None:
    response = await ask(http, None, INTROSPECT_QUERY_TYPE)
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
