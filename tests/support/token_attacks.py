"""Forged and broken bearer tokens, one table for every test that sends them (DESIGN §5).

Each entry builds a whole `Authorization` header value from the issuer's key
and a key the issuer never published. `ATTACKS` are refused whatever the
service is configured with; `ATTACKS_ON_A_STRICT_SERVICE` are refused by a
service that requires `AUDIENCE` and `PARTY` and whose issuer publishes more
than one key (elsewhere those tokens are legitimately accepted).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from tests.support.jwks_server import DEFAULT_ISSUER, SigningKey, encode_segments, mint

__all__ = [
    "ACCEPTED_EDGES",
    "ATTACKS",
    "ATTACKS_ON_A_STRICT_SERVICE",
    "AUDIENCE",
    "PARTY",
    "Keys",
    "assert_refused",
    "good",
]

AUDIENCE = "https://api.onboarding.test"
PARTY = "https://app.onboarding.test"


@dataclass(frozen=True)
class Keys:
    issuer: SigningKey
    attacker: SigningKey


def assert_refused(response: httpx.Response) -> None:
    """HTTP 401, the Bearer challenge, one UNAUTHENTICATED error and no data."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


def good(keys: Keys, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """A token even a strict service accepts, with `claims`/`headers` changed."""
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


Authorization = Callable[[Keys], str]
"""Builds the whole `Authorization` header value."""


def bearer(build: Callable[[Keys], str]) -> Authorization:
    return lambda keys: f"Bearer {build(keys)}"


ATTACKS: dict[str, Authorization] = {
    "alg none": bearer(lambda k: _unsigned("none", k)),
    "alg None": bearer(lambda k: _unsigned("None", k)),
    "alg NONE": bearer(lambda k: _unsigned("NONE", k)),
    "HS256 signed with the RSA public key": bearer(lambda k: _hmac_with_public_key("HS256", k)),
    "HS512 signed with the RSA public key": bearer(lambda k: _hmac_with_public_key("HS512", k)),
    "a key not in the JWKS under a known kid": bearer(
        lambda k: _attacker_signed(k, kid=k.issuer.kid)
    ),
    "unknown kid": bearer(lambda k: _attacker_signed(k)),
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
    "missing sub": bearer(lambda k: good(k, sub=None)),
    "numeric sub": bearer(lambda k: good(k, sub=12345)),
    "empty sub": bearer(lambda k: good(k, sub="")),
    "string exp": bearer(lambda k: good(k, exp=str(int(time.time()) + 60))),
    "tampered payload": bearer(_tampered),
    "truncated signature": bearer(lambda k: good(k)[:-12]),
    "two segments only": bearer(lambda k: good(k).rsplit(".", 1)[0]),
    "not a JWT": bearer(lambda k: "hello"),
    "a 100 KB token": bearer(_hundred_kilobytes),
    "Basic scheme": lambda k: "Basic dXNlci1hOnBhc3N3b3Jk",
    "token in a non-Bearer scheme": lambda k: f"Token {good(k)}",
    "Bearer with nothing after it": lambda k: "Bearer ",
    "Bearer with no space and no token": lambda k: "Bearer",
}

ATTACKS_ON_A_STRICT_SERVICE: dict[str, Authorization] = {
    "no kid while the set has several keys": bearer(lambda k: good(k, headers={"kid": None})),
    "wrong aud": bearer(lambda k: good(k, aud="https://other-api.test")),
    "missing aud": bearer(lambda k: good(k, aud=None)),
    "wrong azp": bearer(lambda k: good(k, azp="https://evil.test")),
    "missing azp": bearer(lambda k: good(k, azp=None)),
}

ACCEPTED_EDGES: dict[str, Callable[[Keys], str]] = {
    "30 s past exp": lambda k: good(k, exp=int(time.time()) - 30),
    "nbf 30 s ahead": lambda k: good(k, nbf=int(time.time()) + 30),
    "iat 30 s ahead": lambda k: good(k, iat=int(time.time()) + 30),
}
