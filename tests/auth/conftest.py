"""Fixtures for the auth tests: a live JWKS server, a key cache and a verifier on it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from auth import JWKSCache, TokenVerifier, http_jwks_fetcher
from tests.support.clock import FakeClock
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, KeyRotation, SigningKey, mint


# RSA key generation is slow; keys are immutable, so share them across tests.
@pytest.fixture(scope="session")
def key_1() -> SigningKey:
    return SigningKey.generate("key-1")


@pytest.fixture(scope="session")
def key_2() -> SigningKey:
    return SigningKey.generate("key-2")


@pytest.fixture(scope="session")
def unpublished_key() -> SigningKey:
    return SigningKey.generate("key-never-published")


@pytest.fixture
def jwks_server(key_1: SigningKey) -> Iterator[JWKSServer]:
    with JWKSServer([key_1]) as server:
        yield server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall_clock() -> FakeClock:
    """The verifier's clock (seconds since the epoch), starting at the real time."""
    return FakeClock(start=time.time())


@pytest.fixture
def key_cache(
    jwks_server: JWKSServer, http_client: httpx.AsyncClient, clock: FakeClock
) -> JWKSCache:
    return JWKSCache(
        http_jwks_fetcher(jwks_server.url, http_client),
        refresh_interval=300,
        unknown_kid_cooldown=30,
        clock=clock,
    )


@pytest.fixture
def verifier(key_cache: JWKSCache, wall_clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(key_cache, issuer=DEFAULT_ISSUER, clock=wall_clock)


@pytest.fixture
async def warm_verifier(verifier: TokenVerifier, key_1: SigningKey) -> TokenVerifier:
    """The verifier once a key-1 token has been verified: the issuer's set is cached."""
    await verifier.verify(mint(key_1))
    return verifier


@pytest.fixture
def rotation(
    jwks_server: JWKSServer,
    key_cache: JWKSCache,
    verifier: TokenVerifier,
    key_1: SigningKey,
    key_2: SigningKey,
) -> KeyRotation:
    return KeyRotation(jwks_server, key_cache, verifier, key_1, key_2)
