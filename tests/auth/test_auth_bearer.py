"""Reading bearer tokens from the Authorization header."""

from __future__ import annotations

import pytest

from auth import InvalidTokenError, bearer_token

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"


def test_no_header_means_anonymous() -> None:
    assert bearer_token(None) is None


def test_empty_header_means_anonymous() -> None:
    # Given a signed-out frontend that sends `Authorization: ""` (Apollo's documented pattern)
    # Then the request is anonymous, not a bad token
    assert bearer_token("") is None


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}"])
def test_bearer_scheme_is_case_insensitive(header: str) -> None:
    assert bearer_token(header) == TOKEN


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (f"Basic {TOKEN}", "unsupported authorization scheme"),
        (f"Token {TOKEN}", "unsupported authorization scheme"),
        (TOKEN, "unsupported authorization scheme"),
        ("Bearer", "empty bearer token"),
        ("Bearer ", "empty bearer token"),
        ("Bearer    ", "empty bearer token"),
        (f"Bearer {TOKEN} extra", "malformed bearer token"),
        (f"Bearer {TOKEN[:10]}\t{TOKEN[10:]}", "malformed bearer token"),
        ("Bearer not-a-jwt", "malformed bearer token"),
        ("Bearer a.b", "malformed bearer token"),
        ("Bearer a.b.c.d", "malformed bearer token"),
        ("Bearer a.b.", "malformed bearer token"),
        ("Bearer a+b.c/d.e=", "malformed bearer token"),
    ],
)
def test_present_but_unusable_credentials_are_invalid(header: str, reason: str) -> None:
    with pytest.raises(InvalidTokenError) as caught:
        bearer_token(header)
    assert caught.value.reason == reason
