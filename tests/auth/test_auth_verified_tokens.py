"""A token verified once is remembered, but never beyond what a fresh check would allow."""

from __future__ import annotations

import pytest

from auth import InvalidTokenError, TokenVerifier
from tests.support.clock import FakeClock
from tests.support.jwks_server import SigningKey, TrustedIssuer, mint


async def test_a_remembered_token_stops_working_when_its_key_is_withdrawn(
    trusted: TrustedIssuer,
) -> None:
    # given a token signed by key-2, verified (and so remembered)
    trusted.publish_key_2()
    token = mint(trusted.key_2, sub="remembered")
    assert (await trusted.verifier.verify(token)).id == "remembered"
    # when the issuer withdraws key-2 and the set is refreshed
    trusted.withdraw_key_2()
    await trusted.cache.refresh()
    # then the very same token string is refused
    await trusted.refused(token)


async def test_a_remembered_token_expires_with_the_token(
    verifier: TokenVerifier, wall_clock: FakeClock, signing_key: SigningKey
) -> None:
    # given a token that is just inside the 60 s leeway for another 2 s
    token = mint(signing_key, exp=wall_clock.now - 58)
    assert (await verifier.verify(token)).id == "user-a"
    # when those 2 s have passed
    wall_clock.advance(2.2)
    # then it is refused, remembered or not
    with pytest.raises(InvalidTokenError, match="token expired"):
        await verifier.verify(token)


async def test_a_refused_token_is_not_remembered(trusted: TrustedIssuer) -> None:
    # given a token whose key the issuer does not publish yet
    trusted.withdraw_key_2()
    token = mint(trusted.key_2, sub="late")
    with pytest.raises(InvalidTokenError):
        await trusted.verifier.verify(token)
    # when the key is published and the set refreshed
    trusted.publish_key_2()
    await trusted.cache.refresh()
    # then the token verifies: the refusal was not remembered
    assert (await trusted.verifier.verify(token)).id == "late"
