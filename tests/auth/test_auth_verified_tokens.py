"""A token verified once is remembered, but never beyond what a fresh check would allow."""

from __future__ import annotations

import pytest

from auth import InvalidTokenError, JWKSCache, TokenVerifier
from tests.support.clock import FakeClock
from tests.support.jwks_server import JWKSServer, SigningKey, mint


async def test_a_remembered_token_stops_working_when_its_key_is_withdrawn(
    verifier: TokenVerifier,
    key_cache: JWKSCache,
    jwks_server: JWKSServer,
    key_1: SigningKey,
    key_2: SigningKey,
) -> None:
    # given a token signed by key-2, verified (and so remembered)
    jwks_server.keys = [key_1, key_2]
    token = mint(key_2, sub="remembered")
    assert (await verifier.verify(token)).id == "remembered"
    # when the issuer withdraws key-2 and the set is refreshed
    jwks_server.keys = [key_1]
    await key_cache.refresh()
    # then the very same token string is refused
    with pytest.raises(InvalidTokenError, match="unknown signing key"):
        await verifier.verify(token)


async def test_a_remembered_token_expires_with_the_token(
    verifier: TokenVerifier, wall_clock: FakeClock, key_1: SigningKey
) -> None:
    # given a token that is just inside the 60 s leeway for another 2 s
    token = mint(key_1, exp=wall_clock.now - 58)
    assert (await verifier.verify(token)).id == "user-a"
    # when those 2 s have passed
    wall_clock.advance(2.2)
    # then it is refused, remembered or not
    with pytest.raises(InvalidTokenError, match="token expired"):
        await verifier.verify(token)


async def test_a_refused_token_is_not_remembered(
    verifier: TokenVerifier,
    key_cache: JWKSCache,
    jwks_server: JWKSServer,
    key_1: SigningKey,
    key_2: SigningKey,
) -> None:
    # given a token whose key the issuer does not publish yet
    jwks_server.keys = [key_1]
    token = mint(key_2, sub="late")
    with pytest.raises(InvalidTokenError):
        await verifier.verify(token)
    # when the key is published and the set refreshed
    jwks_server.keys = [key_1, key_2]
    await key_cache.refresh()
    # then the token verifies: the refusal was not remembered
    assert (await verifier.verify(token)).id == "late"
