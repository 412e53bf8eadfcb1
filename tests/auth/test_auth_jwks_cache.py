"""JWKSCache: rotation, removal, single-flight, cooldown and issuer outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from app.outbound_http import OutboundSession
from auth import (
    InvalidTokenError,
    JWKSCache,
    JWKSFetchError,
    JWKSUnavailableError,
    TokenVerifier,
    http_jwks_fetcher,
)
from tests.support.clock import FakeClock
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, SigningKey, TrustedIssuer, mint


async def test_first_use_fetches_once_and_then_serves_from_cache(
    verifier: TokenVerifier, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    for _ in range(5):
        await verifier.verify(mint(signing_key))
    assert jwks_server.fetch_count == 1


async def test_rotated_in_key_is_accepted_after_exactly_one_refetch(
    warm_verifier: TokenVerifier, trusted: TrustedIssuer
) -> None:
    # Given a warm cache holding key-1
    # When the issuer starts signing with key-2
    trusted.publish_key_2()
    user = await warm_verifier.verify(mint(trusted.key_2))
    # Then the new key was picked up with one refetch
    assert user.id == "user-a"
    assert trusted.server.fetch_count == 2


async def test_removed_key_stops_verifying_after_explicit_refresh(trusted: TrustedIssuer) -> None:
    # Given both keys trusted
    trusted.publish_key_2()
    await trusted.verifier.verify(mint(trusted.key_2))
    # When the issuer withdraws key-2 and we refresh
    trusted.withdraw_key_2()
    await trusted.cache.refresh()
    # Then key-2 tokens are refused while key-1 tokens still pass
    await trusted.refused(mint(trusted.key_2))
    assert (await trusted.verifier.verify(mint(trusted.key_1))).id == "user-a"


async def test_removed_key_stops_verifying_after_periodic_refresh(
    trusted: TrustedIssuer, clock: FakeClock
) -> None:
    trusted.publish_key_2()
    await trusted.verifier.verify(mint(trusted.key_2))
    trusted.withdraw_key_2()
    # When the refresh interval passes
    clock.advance(301)
    # Then the next lookup refetches and key-2 is gone
    await trusted.refused(mint(trusted.key_2))
    assert trusted.server.fetch_count >= 2


async def test_concurrent_unknown_kids_share_one_refetch(
    warm_verifier: TokenVerifier, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # Given a warm cache
    # When 50 requests arrive at once, each with a kid nobody published
    strangers = [mint(signing_key, headers={"kid": f"stranger-{i}"}) for i in range(50)]
    results = await asyncio.gather(
        *(warm_verifier.verify(token) for token in strangers), return_exceptions=True
    )
    # Then all are refused and the issuer saw at most one extra fetch
    assert all(isinstance(result, InvalidTokenError) for result in results)
    assert jwks_server.fetch_count == 2


async def test_concurrent_tokens_for_a_new_key_share_one_refetch(
    warm_verifier: TokenVerifier, trusted: TrustedIssuer
) -> None:
    trusted.publish_key_2()
    tokens = [mint(trusted.key_2, sub=f"u{i}") for i in range(50)]
    users = await asyncio.gather(*(warm_verifier.verify(token) for token in tokens))
    assert {user.id for user in users} == {f"u{i}" for i in range(50)}
    assert trusted.server.fetch_count == 2


async def test_unknown_kid_refetch_is_limited_by_cooldown(
    warm_verifier: TokenVerifier,
    jwks_server: JWKSServer,
    clock: FakeClock,
    signing_key: SigningKey,
    second_key: SigningKey,
) -> None:
    # Given a warm cache and one unknown-kid refetch just spent
    with pytest.raises(InvalidTokenError):
        await warm_verifier.verify(mint(signing_key, headers={"kid": "stranger-a"}))
    assert jwks_server.fetch_count == 2
    # When key-2 is published and used within the cooldown
    jwks_server.keys = [signing_key, second_key]
    clock.advance(29)
    with pytest.raises(InvalidTokenError, match="unknown signing key"):
        await warm_verifier.verify(mint(second_key))
    # Then no fetch happened
    assert jwks_server.fetch_count == 2
    # And once the cooldown has passed, key-2 is fetched and accepted
    clock.advance(2)
    assert (await warm_verifier.verify(mint(second_key))).id == "user-a"
    assert jwks_server.fetch_count == 3


async def test_cached_key_keeps_verifying_while_issuer_is_down(
    verifier: TokenVerifier,
    key_cache: JWKSCache,
    jwks_server: JWKSServer,
    clock: FakeClock,
    signing_key: SigningKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="auth.jwks")
    # Given a warm cache
    await verifier.verify(mint(signing_key))
    # When the issuer goes down
    jwks_server.stop()
    # Then cached keys still verify
    assert (await verifier.verify(mint(signing_key))).id == "user-a"
    # And when the periodic refresh is due and fails, the last good set keeps serving
    clock.advance(301)
    assert (await verifier.verify(mint(signing_key))).id == "user-a"
    assert key_cache.fetch_count == 2
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "could not fetch the issuer's JWKS: "
        f"JWKS request to {jwks_server.url} failed: ClientConnectorError"
    ]
    assert await key_cache.ready()
    # And the failed refresh is not retried on every request
    clock.advance(5)
    await verifier.verify(mint(signing_key))
    assert key_cache.fetch_count == 2
    # And when the issuer is back, the next retry succeeds
    jwks_server.start()
    clock.advance(30)
    await verifier.verify(mint(signing_key))
    assert key_cache.fetch_count == 3
    assert caplog.records[-1].getMessage() == "the issuer's JWKS was fetched again after a failure"


async def test_explicit_refresh_reports_failure_and_keeps_the_set(
    key_cache: JWKSCache, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    await key_cache.refresh()
    jwks_server.stop()
    with pytest.raises(JWKSFetchError):
        await key_cache.refresh()
    assert (await key_cache.get_signing_key("key-1")).key_id == "key-1"


async def test_issuer_down_before_first_fetch_is_unavailable_not_invalid(
    trusted: TrustedIssuer, clock: FakeClock
) -> None:
    # Given the issuer is down before we ever fetched its keys
    trusted.server.stop()
    # Then verification reports the keys unavailable (a 503, not a 401)
    with pytest.raises(JWKSUnavailableError):
        await trusted.verifier.verify(mint(trusted.key_1))
    assert not await trusted.cache.ready()
    # And once the issuer is back and the cooldown has passed, the next request succeeds
    trusted.server.start()
    clock.advance(30)
    assert (await trusted.verifier.verify(mint(trusted.key_1))).id == "user-a"


async def test_a_down_issuer_is_asked_once_per_cooldown_before_any_set_was_fetched(
    trusted: TrustedIssuer, clock: FakeClock
) -> None:
    # Given an issuer that answers 503 before we ever fetched its keys
    trusted.server.failing_with = 503
    token = mint(trusted.key_1)
    # When 300 requests with its `iss` arrive: 100 at once, then 200 one by one
    at_once = await asyncio.gather(
        *(trusted.verifier.verify(token) for _ in range(100)), return_exceptions=True
    )
    one_by_one = []
    for _ in range(200):
        with pytest.raises(JWKSUnavailableError) as refused:
            await trusted.verifier.verify(token)
        one_by_one.append(refused.value)
    # Then each is told the keys are unavailable, and the issuer was asked once
    assert all(isinstance(result, JWKSUnavailableError) for result in at_once)
    assert len(one_by_one) == 200
    assert trusted.server.fetch_count == 1
    # And asking whether the cache is ready costs no fetch within the cooldown either
    assert not await trusted.cache.ready()
    assert trusted.server.fetch_count == 1
    # When the cooldown has passed with the issuer still down / then one more fetch
    clock.advance(30)
    for _ in range(50):
        with pytest.raises(JWKSUnavailableError):
            await trusted.verifier.verify(token)
    assert trusted.server.fetch_count == 2
    # When the issuer is back / then nothing is fetched before the cooldown has passed
    trusted.server.failing_with = None
    clock.advance(29)
    with pytest.raises(JWKSUnavailableError):
        await trusted.verifier.verify(token)
    assert trusted.server.fetch_count == 2
    # and the first request after it verifies, with one fetch
    clock.advance(1)
    assert (await trusted.verifier.verify(token)).id == "user-a"
    assert await trusted.cache.ready()
    assert trusted.server.fetch_count == 3


async def test_only_rsa_signing_keys_are_used(
    signing_key: SigningKey, second_key: SigningKey
) -> None:
    # Given a set that also publishes an encryption key and a non-RSA key
    encryption_key = {**second_key.public_jwk(), "use": "enc"}
    ec_key = {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "AA", "y": "AA"}
    broken_key = {"kty": "RSA", "kid": "broken", "n": "", "e": ""}

    async def fetch() -> Mapping[str, Any]:
        return {"keys": [encryption_key, ec_key, broken_key, signing_key.public_jwk()]}

    cache = JWKSCache(fetch)
    # Then only the RSA signing key is usable, so a kid-less token may use it
    assert (await cache.get_signing_key(None)).key_id == "key-1"
    with pytest.raises(InvalidTokenError):
        await cache.get_signing_key("key-2")


async def test_set_without_usable_keys_counts_as_a_failed_fetch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fetch() -> Mapping[str, Any]:
        return {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}

    cache = JWKSCache(fetch)
    with pytest.raises(JWKSUnavailableError):
        await cache.get_signing_key("any")
    assert [r.getMessage() for r in caplog.records if r.name == "auth.jwks"] == [
        "could not fetch the issuer's JWKS: JWKS document has no usable RSA signing keys"
    ]


async def test_http_fetcher_rejects_non_200(
    jwks_server: JWKSServer, http_session: OutboundSession
) -> None:
    fetch = http_jwks_fetcher(jwks_server.url + ".missing", http_session)
    with pytest.raises(JWKSFetchError, match="HTTP 404"):
        await fetch()


async def test_http_fetcher_rejects_non_json(
    jwks_server: JWKSServer, http_session: OutboundSession
) -> None:
    jwks_server.page_instead = b"<html>"
    fetch = http_jwks_fetcher(jwks_server.url, http_session)
    with pytest.raises(JWKSFetchError, match="did not answer JSON"):
        await fetch()


async def test_http_fetcher_reports_connection_failure(
    jwks_server: JWKSServer, http_session: OutboundSession
) -> None:
    jwks_server.stop()
    with pytest.raises(JWKSFetchError, match="ClientConnectorError"):
        await http_jwks_fetcher(jwks_server.url, http_session)()


async def test_verifier_does_not_fetch_for_a_foreign_issuer_even_when_cold(
    key_cache: JWKSCache, signing_key: SigningKey
) -> None:
    verifier = TokenVerifier(key_cache, issuer=DEFAULT_ISSUER)
    with pytest.raises(InvalidTokenError, match="issuer mismatch"):
        await verifier.verify(mint(signing_key, iss="https://other.test"))
    assert key_cache.fetch_count == 0


async def test_unknown_kid_on_a_cold_cache_costs_a_single_fetch(
    verifier: TokenVerifier, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    tokens = [mint(signing_key, headers={"kid": f"stranger-{i}"}) for i in range(20)]
    results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(result, InvalidTokenError) for result in results)
    assert jwks_server.fetch_count == 1
