"""DESIGN §5 under attack: forged and broken tokens over HTTP, and the edges that must pass.

The service here is configured the strict way (an audience and authorized
parties), with two published keys, so every check of the verifier is in play.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from app.settings import Settings
from tests.security.conftest import assert_refused
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, SigningKey, encode_segments, mint

AUDIENCE = "https://api.onboarding.test"
PARTY = "https://app.onboarding.test"
VIEWER = "{ viewer { id } }"


@pytest.fixture
def database_url(sqlite_only_database_url: str) -> str:
    return sqlite_only_database_url


@pytest.fixture
def jwks_server(signing_key: SigningKey, second_key: SigningKey) -> Iterator[JWKSServer]:
    with JWKSServer([signing_key, second_key]) as server:
        yield server


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_audience": AUDIENCE, "authorized_parties": [PARTY]})


@dataclass(frozen=True)
class Keys:
    issuer: SigningKey
    attacker: SigningKey


def good(keys: Keys, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """A token this service accepts, with `claims`/`headers` changed."""
    return mint(keys.issuer, headers=headers, **{"aud": AUDIENCE, "azp": PARTY, **claims})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": DEFAULT_ISSUER, "sub": "user-a", "aud": AUDIENCE, "azp": PARTY}
    return {**claims, "iat": now, "exp": now + 60, **changes}


def _unsigned(alg: str, keys: Keys) -> str:
    return encode_segments({"alg": alg, "typ": "JWT", "kid": keys.issuer.kid}, _claims())


def _hmac_with_public_key(alg: str, keys: Keys) -> str:
    """Algorithm confusion: an HMAC whose secret is the issuer's public key (PEM)."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    header = {"alg": alg, "typ": "JWT", "kid": keys.issuer.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(keys.issuer.public_pem(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _attacker_signed(keys: Keys, **headers: Any) -> str:
    return mint(
        keys.attacker, headers={"kid": keys.attacker.kid, **headers}, aud=AUDIENCE, azp=PARTY
    )


def _tampered(keys: Keys) -> str:
    header, _payload, signature = good(keys).split(".")
    forged = _b64(json.dumps(_claims(sub="admin")).encode())
    return f"{header}.{forged}.{signature}"


def _hundred_kilobytes(keys: Keys) -> str:
    return good(keys, padding="x" * 100_000)


AUTH = Callable[[Keys], str]
"""Builds the whole `Authorization` header value."""


def bearer(build: Callable[[Keys], str]) -> AUTH:
    return lambda keys: f"Bearer {build(keys)}"


ATTACKS: dict[str, AUTH] = {
    "alg none": bearer(lambda k: _unsigned("none", k)),
    "alg None": bearer(lambda k: _unsigned("None", k)),
    "alg NONE": bearer(lambda k: _unsigned("NONE", k)),
    "HS256 signed with the RSA public key": bearer(lambda k: _hmac_with_public_key("HS256", k)),
    "HS512 signed with the RSA public key": bearer(lambda k: _hmac_with_public_key("HS512", k)),
    "a key not in the JWKS under a known kid": bearer(
        lambda k: _attacker_signed(k, kid=k.issuer.kid)
    ),
    "unknown kid": bearer(lambda k: _attacker_signed(k)),
    "no kid while the set has several keys": bearer(lambda k: good(k, headers={"kid": None})),
    "jku pointing at the attacker's JWKS": bearer(
        lambda k: _attacker_signed(k, jku="https://attacker.test/jwks.json")
    ),
    "x5u pointing at the attacker's certificate": bearer(
        lambda k: _attacker_signed(k, x5u="https://attacker.test/cert.pem")
    ),
    "jwk header carrying the attacker's key": bearer(
        lambda k: _attacker_signed(
            k,
            jwk=jwt.algorithms.RSAAlgorithm.to_jwk(
                k.attacker.private_key.public_key(), as_dict=True
            ),
        )
    ),
    "jku with the issuer's kid": bearer(
        lambda k: good(k, headers={"jku": "https://attacker.test/jwks.json"})
    ),
    "expired past the leeway": bearer(lambda k: good(k, exp=int(time.time()) - 61)),
    "nbf past the leeway in the future": bearer(lambda k: good(k, nbf=int(time.time()) + 120)),
    "iat past the leeway in the future": bearer(lambda k: good(k, iat=int(time.time()) + 120)),
    "wrong iss": bearer(lambda k: good(k, iss="https://evil.test")),
    "iss with a suffix": bearer(lambda k: good(k, iss=DEFAULT_ISSUER + ".evil.test")),
    "wrong aud": bearer(lambda k: good(k, aud="https://other-api.test")),
    "missing aud": bearer(lambda k: good(k, aud=None)),
    "wrong azp": bearer(lambda k: good(k, azp="https://evil.test")),
    "missing azp": bearer(lambda k: good(k, azp=None)),
    "missing sub": bearer(lambda k: good(k, sub=None)),
    "numeric sub": bearer(lambda k: good(k, sub=12345)),
    "empty sub": bearer(lambda k: good(k, sub="")),
    "string exp": bearer(lambda k: good(k, exp=str(int(time.time()) + 60))),
    "tampered payload": bearer(_tampered),
    "truncated signature": bearer(lambda k: good(k)[:-12]),
    "two segments only": bearer(lambda k: good(k).rsplit(".", 1)[0]),
    "a 100 KB token": bearer(_hundred_kilobytes),
    "Basic scheme": lambda k: "Basic dXNlci1hOnBhc3N3b3Jk",
    "token in a non-Bearer scheme": lambda k: f"Token {good(k)}",
    "Bearer with nothing after it": lambda k: "Bearer ",
}

ACCEPTED_EDGES: dict[str, Callable[[Keys], str]] = {
    "30 s past exp": lambda k: good(k, exp=int(time.time()) - 30),
    "nbf 30 s ahead": lambda k: good(k, nbf=int(time.time()) + 30),
    "iat 30 s ahead": lambda k: good(k, iat=int(time.time()) + 30),
}


@pytest.fixture
def keys(signing_key: SigningKey, attacker_key: SigningKey) -> Keys:
    return Keys(issuer=signing_key, attacker=attacker_key)


async def ask(http: httpx.AsyncClient, authorization: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": authorization}
    )


def test_the_table_covers_at_least_eighteen_attacks() -> None:
    assert len(ATTACKS) >= 18


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_forged_or_broken_token_gets_401_and_no_data(
    http: httpx.AsyncClient, keys: Keys, attack: str
) -> None:
    # given a token an attacker made or broke
    authorization = ATTACKS[attack](keys)
    # when it is sent with a query for the viewer
    response = await ask(http, authorization)
    # then the request is refused as a whole, never answered as anonymous
    assert_refused(response)
    assert "user-a" not in response.text


@pytest.mark.parametrize("edge", list(ACCEPTED_EDGES))
async def test_tokens_within_the_leeway_are_accepted(
    http: httpx.AsyncClient, keys: Keys, edge: str
) -> None:
    # given a token at an edge the leeway (60 s) is there for
    authorization = f"Bearer {ACCEPTED_EDGES[edge](keys)}"
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
