"""Fixtures for the auth tests: a key cache and a verifier on the shared JWKS server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from app.outbound_http import OutboundSession
from auth import JWKSCache, TokenVerifier, http_jwks_fetcher
from tests.support.clock import FakeClock
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, SigningKey, TrustedIssuer, mint


@pytest.fixture
async def http_session() -> AsyncIterator[OutboundSession]:
    session = OutboundSession(connections=2)
    yield session
    await session.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall_clock() -> FakeClock:
    """The verifier's clock (seconds since the epoch), starting at the real time."""
    return FakeClock(start=time.time())


@pytest.fixture
def key_cache(
    jwks_server: JWKSServer, http_session: OutboundSession, clock: FakeClock
) -> JWKSCache:
    return JWKSCache(
        http_jwks_fetcher(jwks_server.url, http_session),
        refresh_interval=300,
        unknown_kid_cooldown=30,
        clock=clock,
    )


@pytest.fixture
def verifier(key_cache: JWKSCache, wall_clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(key_cache, issuer=DEFAULT_ISSUER, clock=wall_clock)


@pytest.fixture
async def warm_verifier(verifier: TokenVerifier, signing_key: SigningKey) -> TokenVerifier:
    """The verifier once a key-1 token has been verified: the issuer's set is cached."""
    await verifier.verify(mint(signing_key))
    return verifier


@pytest.fixture
def trusted(
    jwks_server: JWKSServer,
    key_cache: JWKSCache,
    verifier: TokenVerifier,
    signing_key: SigningKey,
    second_key: SigningKey,
) -> TrustedIssuer:
    return TrustedIssuer(jwks_server, key_cache, verifier, signing_key, second_key)
