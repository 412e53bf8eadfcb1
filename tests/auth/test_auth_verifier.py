"""TokenVerifier against a live JWKS endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from auth import (
    MAX_TOKEN_LENGTH,
    InvalidTokenError,
    JWKSCache,
    TokenVerifier,
    authenticate,
)
from tests.support.clock import FakeClock
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, SigningKey, encode_segments, mint


async def assert_rejected(verifier: TokenVerifier, token: str, reason: str) -> None:
    with pytest.raises(InvalidTokenError) as caught:
        await verifier.verify(token)
    assert caught.value.reason == reason


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": DEFAULT_ISSUER, "sub": "user-a", "iat": now, "exp": now + 60, **overrides}


# --- the happy path -------------------------------------------------------------------


async def test_valid_token_yields_the_user_named_by_sub(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    # Given a token from the configured issuer, signed with a published key
    exp = int(time.time()) + 60
    token = mint(
        signing_key,
        sub="user_2abc",
        email="a@example.com",
        given_name="Ada",
        family_name="L",
        exp=exp,
    )
    # When it is verified
    user = await verifier.verify(token)
    # Then the user is whoever `sub` says, with profile claims picked up
    assert user.id == "user_2abc"
    assert user.email == "a@example.com"
    assert (user.first_name, user.last_name) == ("Ada", "L")
    assert user.expires_at == datetime.fromtimestamp(exp, tz=UTC)
    assert user.claims["sub"] == "user_2abc"


async def test_clerk_style_name_claims_take_precedence(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    token = mint(
        signing_key, first_name="Grace", given_name="G", last_name=42, family_name="Hopper"
    )
    user = await verifier.verify(token)
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")


# --- time claims ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offsets", "refusal"),
    [
        ({"iat": -300, "exp": -120}, "token expired"),
        ({"iat": -90, "exp": -30}, None),
        ({"nbf": 90, "exp": 300}, "token not yet valid"),
        ({"nbf": 30, "exp": 300}, None),
        ({"iat": 90, "exp": 300}, "token not yet valid"),
    ],
    ids=[
        "expired beyond the leeway",
        "30 s past exp, within the leeway",
        "nbf 90 s ahead",
        "nbf 30 s ahead, within the leeway",
        "iat 90 s ahead",
    ],
)
async def test_time_claims_are_checked_with_a_leeway(
    verifier: TokenVerifier, signing_key: SigningKey, offsets: dict[str, int], refusal: str | None
) -> None:
    # given a token whose time claims are `offsets` seconds from now
    now = int(time.time())
    token = mint(signing_key, **{claim: now + offset for claim, offset in offsets.items()})
    # then it verifies, or is refused for the reason given
    if refusal is None:
        assert (await verifier.verify(token)).id == "user-a"
    else:
        await assert_rejected(verifier, token, refusal)


async def test_time_claims_are_checked_against_the_verifiers_clock(
    verifier: TokenVerifier, wall_clock: FakeClock, signing_key: SigningKey
) -> None:
    # given a token that expired an hour ago by the system clock
    now = int(wall_clock.now)
    token = mint(signing_key, iat=now - 3660, exp=now - 3600)
    # when the verifier's clock says it is a minute before that expiry / then it verifies
    wall_clock.advance(-3660)
    assert (await verifier.verify(token)).id == "user-a"
    # and when its clock moves past expiry and leeway / then the same token is refused
    wall_clock.advance(3660)
    await assert_rejected(verifier, token, "token expired")


@pytest.mark.parametrize("claim", ["exp", "iat"])
async def test_time_claims_must_be_numbers(
    verifier: TokenVerifier, signing_key: SigningKey, claim: str
) -> None:
    # PyJWT alone would accept "1700000000" by running it through int()
    as_string: dict[str, Any] = {claim: str(int(time.time()) + 30)}
    token = mint(signing_key, **as_string)
    with pytest.raises(InvalidTokenError, match=f"invalid {claim} claim"):
        await verifier.verify(token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss"])
async def test_required_claims_must_be_present(
    verifier: TokenVerifier, signing_key: SigningKey, claim: str
) -> None:
    token = mint(signing_key, **{claim: None})
    with pytest.raises(InvalidTokenError):
        await verifier.verify(token)


async def test_missing_sub_is_rejected(verifier: TokenVerifier, signing_key: SigningKey) -> None:
    await assert_rejected(verifier, mint(signing_key, sub=None), "missing sub claim")


@pytest.mark.parametrize(
    "sub", [123, "", "   ", ["user-a"], "u" * 256, "user\x00a", "user\x1b", "user\ud800"]
)
async def test_sub_must_be_a_non_empty_string(
    verifier: TokenVerifier, signing_key: SigningKey, sub: object
) -> None:
    await assert_rejected(verifier, mint(signing_key, sub=sub), "invalid sub claim")


# --- issuer, audience, authorized party ----------------------------------------------


@pytest.mark.parametrize(
    "issuer",
    [
        "https://evil.test",
        "https://issuer.test.evil",
        "https://issuer.test/",
        "HTTPS://ISSUER.TEST",
    ],
)
async def test_other_issuers_are_rejected_before_any_key_fetch(
    verifier: TokenVerifier, key_cache: JWKSCache, attacker_key: SigningKey, issuer: str
) -> None:
    # Given a token from another issuer naming a kid we have never seen
    token = mint(attacker_key, iss=issuer)
    # When it is verified
    await assert_rejected(verifier, token, "issuer mismatch")
    # Then the issuer's JWKS was never even fetched
    assert key_cache.fetch_count == 0


async def test_authorized_party_must_match_when_configured(
    key_cache: JWKSCache, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(
        key_cache, issuer=DEFAULT_ISSUER, authorized_parties=["https://app.test"]
    )
    assert (await verifier.verify(mint(signing_key, azp="https://app.test"))).id == "user-a"
    await assert_rejected(
        verifier, mint(signing_key, azp="https://evil.test"), "unauthorized party"
    )


async def test_missing_azp_is_rejected_when_parties_are_configured(
    key_cache: JWKSCache, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(
        key_cache, issuer=DEFAULT_ISSUER, authorized_parties=["https://app.test"]
    )
    await assert_rejected(verifier, mint(signing_key), "unauthorized party")


async def test_azp_is_ignored_when_no_parties_are_configured(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    assert (await verifier.verify(mint(signing_key, azp="https://anything.test"))).id == "user-a"


async def test_audience_must_match_when_configured(
    key_cache: JWKSCache, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(key_cache, issuer=DEFAULT_ISSUER, audience="onboarding-api")
    assert (await verifier.verify(mint(signing_key, aud="onboarding-api"))).id == "user-a"
    await assert_rejected(verifier, mint(signing_key, aud="other-api"), "audience mismatch")
    await assert_rejected(verifier, mint(signing_key), "missing aud claim")


async def test_audience_is_not_checked_when_not_configured(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    assert (await verifier.verify(mint(signing_key, aud="whatever"))).id == "user-a"


# --- algorithms and header-supplied keys ---------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_unsigned_tokens_are_rejected(
    verifier: TokenVerifier, key_cache: JWKSCache, alg: str
) -> None:
    token = encode_segments({"alg": alg, "kid": "key-1"}, claims())
    await assert_rejected(verifier, token, "algorithm not allowed")
    assert key_cache.fetch_count == 0


@pytest.mark.parametrize(("alg", "digest"), [("HS256", hashlib.sha256), ("HS512", hashlib.sha512)])
async def test_hmac_signed_with_the_public_key_is_rejected(
    verifier: TokenVerifier, signing_key: SigningKey, alg: str, digest: Any
) -> None:
    # Given the classic algorithm-confusion forgery: HMAC keyed with the public PEM
    header = {"alg": alg, "kid": signing_key.kid, "typ": "JWT"}
    unsigned = encode_segments(header, claims()).rsplit(".", 1)[0]
    signature = hmac.new(signing_key.public_pem(), unsigned.encode(), digest).digest()
    token = unsigned + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    # Then it is refused
    await assert_rejected(verifier, token, "algorithm not allowed")


def test_symmetric_or_none_algorithms_cannot_be_configured(key_cache: JWKSCache) -> None:
    for algorithms in (["HS256"], ["RS256", "none"], []):
        with pytest.raises(ValueError, match="algorithms"):
            TokenVerifier(key_cache, issuer=DEFAULT_ISSUER, algorithms=algorithms)


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
async def test_header_supplied_keys_are_rejected(
    verifier: TokenVerifier, signing_key: SigningKey, attacker_key: SigningKey, header: str
) -> None:
    value: object = {
        "jku": "https://evil.test/jwks.json",
        "x5u": "https://evil.test/cert.pem",
        "jwk": attacker_key.public_jwk(),
        "x5c": ["MIIB"],
    }[header]
    token = mint(signing_key, headers={header: value})
    await assert_rejected(verifier, token, "embedded key headers not allowed")


# --- signature and shape --------------------------------------------------------------


async def test_tampered_payload_is_rejected(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    header, _, signature = mint(signing_key).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(sub="user-b")).encode()).rstrip(b"=")
    await assert_rejected(verifier, f"{header}.{forged.decode()}.{signature}", "invalid signature")


async def test_token_signed_by_an_unpublished_key_with_a_published_kid_is_rejected(
    verifier: TokenVerifier, attacker_key: SigningKey
) -> None:
    token = mint(attacker_key, headers={"kid": "key-1"})
    await assert_rejected(verifier, token, "invalid signature")


@pytest.mark.parametrize("cut", [lambda t: t[:-8], lambda t: t.rsplit(".", 1)[0], lambda t: t[:20]])
async def test_truncated_token_is_rejected(
    verifier: TokenVerifier, signing_key: SigningKey, cut: Any
) -> None:
    with pytest.raises(InvalidTokenError):
        await verifier.verify(cut(mint(signing_key)))


async def test_oversize_token_is_rejected_before_parsing(
    verifier: TokenVerifier, key_cache: JWKSCache, signing_key: SigningKey
) -> None:
    token = mint(signing_key, padding="x" * MAX_TOKEN_LENGTH)
    await assert_rejected(verifier, token, "token too large")
    await assert_rejected(verifier, "x" * (MAX_TOKEN_LENGTH + 1), "token too large")
    assert key_cache.fetch_count == 0


async def test_garbage_is_a_malformed_token(verifier: TokenVerifier) -> None:
    await assert_rejected(verifier, "not.a.jwt", "malformed token")


async def test_token_without_kid_is_accepted_when_one_key_is_published(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    assert (await verifier.verify(mint(signing_key, headers={"kid": None}))).id == "user-a"


async def test_token_without_kid_is_rejected_when_several_keys_are_published(
    verifier: TokenVerifier,
    jwks_server: JWKSServer,
    signing_key: SigningKey,
    second_key: SigningKey,
) -> None:
    jwks_server.keys = [signing_key, second_key]
    await assert_rejected(verifier, mint(signing_key, headers={"kid": None}), "token has no key id")


async def test_unknown_kid_is_rejected(verifier: TokenVerifier, attacker_key: SigningKey) -> None:
    await assert_rejected(verifier, mint(attacker_key), "unknown signing key")


# --- authenticate() -------------------------------------------------------------------


async def test_authenticate_without_header_is_anonymous(verifier: TokenVerifier) -> None:
    assert await authenticate(None, verifier) is None


async def test_authenticate_with_a_valid_bearer_token(
    verifier: TokenVerifier, signing_key: SigningKey
) -> None:
    user = await authenticate(f"Bearer {mint(signing_key)}", verifier)
    assert user is not None
    assert user.id == "user-a"


async def test_authenticate_never_treats_a_bad_token_as_anonymous(
    verifier: TokenVerifier, attacker_key: SigningKey
) -> None:
    for header in ("Bearer ", "Basic dXNlcjpwYXNz", f"Bearer {mint(attacker_key)}"):
        with pytest.raises(InvalidTokenError):
            await authenticate(header, verifier)
