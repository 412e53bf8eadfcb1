"""DESIGN §5 under attack: forged and broken tokens over HTTP, and the edges that must pass.

The service here is configured the strict way (an audience and authorized
parties), with two published keys, so every check of the verifier is in play.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.app import settings_with
from tests.support.jwks_server import JWKSServer, SigningKey, mint
from tests.support.token_attacks import (
    ACCEPTED_EDGES,
    ATTACKS,
    ATTACKS_ON_A_STRICT_SERVICE,
    AUDIENCE,
    PARTY,
    Keys,
    assert_refused,
)

VIEWER = "{ viewer { id } }"
EVERY_ATTACK = {**ATTACKS, **ATTACKS_ON_A_STRICT_SERVICE}


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def jwks_server(signing_key: SigningKey, second_key: SigningKey) -> Iterator[JWKSServer]:
    with JWKSServer([signing_key, second_key]) as server:
        yield server


settings = settings_with(jwt_audience=AUDIENCE, authorized_parties=[PARTY])


async def ask(http: httpx.AsyncClient, authorization: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": authorization}
    )


@pytest.mark.parametrize("attack", list(EVERY_ATTACK))
async def test_a_forged_or_broken_token_gets_401_and_no_data(
    http: httpx.AsyncClient, forgery_keys: Keys, attack: str
) -> None:
    # given a token an attacker made or broke
    authorization = EVERY_ATTACK[attack](forgery_keys)
    # when it is sent with a query for the viewer
    response = await ask(http, authorization)
    # then the request is refused as a whole, never answered as anonymous
    assert_refused(response)
    assert "user-a" not in response.text


@pytest.mark.parametrize("edge", list(ACCEPTED_EDGES))
async def test_tokens_within_the_leeway_are_accepted(
    http: httpx.AsyncClient, forgery_keys: Keys, edge: str
) -> None:
    # given a token at an edge the leeway (60 s) is there for
    authorization = f"Bearer {ACCEPTED_EDGES[edge](forgery_keys)}"
    # when it is used / then it names the viewer
    response = await ask(http, authorization)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"viewer": {"id": "user-a"}}}


async def test_the_second_published_key_verifies_under_its_own_kid(
    http: httpx.AsyncClient, second_key: SigningKey
) -> None:
    # given the issuer publishes two keys / when a token is signed with the second
    token = mint(second_key, aud=AUDIENCE, azp=PARTY, sub="user-b")
    response = await ask(http, f"Bearer {token}")
    # then it verifies: the kid picks the key, not the order of the set
    assert response.json() == {"data": {"viewer": {"id": "user-b"}}}
