"""A `sub` no database column can hold is an invalid token, on every database.

A `sub` longer than 255 characters, with control characters or with text that
is not valid UTF-8 used to work for `viewer { id }` and fail with
INTERNAL_SERVER_ERROR as soon as PostgreSQL stored it.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from tests.support.jwks_server import DEFAULT_ISSUER, SigningKey, mint
from tests.support.token_attacks import assert_refused

# `viewer { id }` alone never touches the database; `onboarding` does (first use stores a row).
VIEWER_AND_PROGRESS = "{ viewer { id onboarding { currentStep } } }"

ODD_SUBJECTS: dict[str, str] = {
    "256 characters": "u" * 256,
    "a NUL": "user\x00admin",
    "an escape sequence": "user\x1b[31m",
    "a line break": "user-a\nuser-b",
    "DEL": "user\x7f",
    "a C1 control": "user\x85",
    "a lone high surrogate": "user\ud800",
    "a lone low surrogate": "\udc00user",
}

GOOD_SUBJECTS: dict[str, str] = {
    "255 characters": "u" * 255,
    "255 non-ASCII characters": "ü" * 255,
    "an emoji (a surrogate pair in JSON)": "user-😀",
}


async def ask(http: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )


def not_utf8_token(key: SigningKey) -> str:
    """Correctly signed, but the payload's `sub` bytes are not UTF-8."""
    payload = (
        b'{"iss": "' + DEFAULT_ISSUER.encode() + b'", "sub": "user-\xff\xfe",'
        b' "iat": 1700000000, "exp": 4100000000}'
    )
    return jwt.api_jws.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid})


@pytest.mark.parametrize("subject", list(ODD_SUBJECTS))
async def test_an_odd_sub_is_an_invalid_token(
    http: httpx.AsyncClient, signing_key: SigningKey, subject: str
) -> None:
    # given a token the issuer signed whose sub no user id can be
    token = mint(signing_key, sub=ODD_SUBJECTS[subject])
    # when it is used, for a field without and one with storage / then it is refused as invalid
    for query in ("{ viewer { id } }", VIEWER_AND_PROGRESS):
        response = await ask(http, token, query)
        assert_refused(response)
        assert "invalid sub claim" in response.json()["errors"][0]["message"]


async def test_a_sub_that_is_not_utf8_is_an_invalid_token(
    http: httpx.AsyncClient, signing_key: SigningKey
) -> None:
    response = await ask(http, not_utf8_token(signing_key), VIEWER_AND_PROGRESS)
    assert_refused(response)


@pytest.mark.parametrize("subject", list(GOOD_SUBJECTS))
async def test_a_sub_at_the_limits_is_a_user(
    http: httpx.AsyncClient, signing_key: SigningKey, subject: str
) -> None:
    # given a sub just inside every limit / when it is used with storage
    sub = GOOD_SUBJECTS[subject]
    response = await ask(http, mint(signing_key, sub=sub), VIEWER_AND_PROGRESS)
    # then it is that user, stored and read back
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"viewer": {"id": sub, "onboarding": {"currentStep": 1}}}}


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "user\ud800@example.com", "given_name": "Ada\x00"},
        {"first_name": "\x1b[2J", "family_name": "\udfff"},
    ],
)
async def test_profile_claims_that_are_not_text_are_left_out(
    http: httpx.AsyncClient, signing_key: SigningKey, claims: dict[str, Any]
) -> None:
    # given a valid token whose profile claims carry control characters or lone surrogates
    token = mint(signing_key, **claims)
    # when the viewer reads them / then the token works and those claims read as absent
    response = await ask(http, token, "{ viewer { id email firstName lastName } }")
    assert response.json() == {
        "data": {"viewer": {"id": "user-a", "email": None, "firstName": None, "lastName": None}}
    }
