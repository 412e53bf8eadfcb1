"""The issuer's signing keys: fetched without blocking, cached, refreshed, shared.

PyJWT's `PyJWKClient` is not used: it fetches with blocking urllib and gives up
on its cache when the cache's lifespan ends, which turns an issuer outage into
an outage of ours. This cache keeps serving the last good set instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import jwt
import orjson

from auth.errors import InvalidTokenError, JWKSFetchError, JWKSUnavailableError

__all__ = ["JWKSCache", "JWKSFetcher", "http_jwks_fetcher"]

logger = logging.getLogger(__name__)

JWKSFetcher = Callable[[], Awaitable[Mapping[str, Any]]]

JWKS_FETCH_TIMEOUT_SECONDS = 5.0


def http_jwks_fetcher(url: str, session: Callable[[], aiohttp.ClientSession]) -> JWKSFetcher:
    """A fetcher for `JWKSCache` that GETs the JWKS document at `url`.

    Give it a session of its own: sharing a pool with other services would let
    their slow calls (a provider stalling for its whole timeout) hold every
    connection, so a key fetch would wait for one and fail, and tokens signed
    with a freshly rotated key would be refused.
    """

    async def fetch() -> Mapping[str, Any]:
        try:
            async with session().get(
                url,
                headers={"Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=JWKS_FETCH_TIMEOUT_SECONDS),
            ) as response:
                if response.status != 200:
                    raise JWKSFetchError(f"JWKS endpoint {url} answered HTTP {response.status}")
                content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise JWKSFetchError(f"JWKS request to {url} failed: {type(exc).__name__}") from exc
        try:
            document = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise JWKSFetchError(f"JWKS endpoint {url} did not answer JSON") from exc
        if not isinstance(document, dict):
            raise JWKSFetchError(f"JWKS endpoint {url} did not answer a JSON object")
        return document

    return fetch


class JWKSCache:
    """RSA signing keys of one issuer, keyed by `kid`.

    - The first lookup fetches; a set older than `refresh_interval` is refetched
      on the next lookup. A failed refresh keeps the last good set and is not
      retried for `unknown_kid_cooldown` seconds, so a down issuer is not
      hammered and requests are not all stalled by fetch timeouts.
    - The same cooldown holds before the first successful fetch: while no set
      was ever fetched and the last attempt failed, lookups fail at once
      (`JWKSUnavailableError`) instead of each starting a fetch.
    - An unknown `kid` (the issuer rotated keys) triggers at most one refetch per
      `unknown_kid_cooldown`; without that bound, tokens with made-up kids would
      let any client make us flood the issuer.
    - Concurrent callers that need a fetch share one in-flight fetch.
    - A successful fetch replaces the whole set, so keys the issuer withdrew stop
      verifying.
    """

    def __init__(
        self,
        fetch: JWKSFetcher,
        *,
        refresh_interval: float = 300,
        unknown_kid_cooldown: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refresh_interval = refresh_interval
        self._unknown_kid_cooldown = unknown_kid_cooldown
        self._clock = clock
        self._keys: list[jwt.PyJWK] = []
        self._fetched_at: float | None = None
        self._last_failed_at: float | None = None
        self._last_unknown_kid_refetch_at: float | None = None
        self._in_flight: asyncio.Task[None] | None = None
        self._fetch_count = 0

    @property
    def fetch_count(self) -> int:
        """How many times the fetcher has been called, successful or not."""
        return self._fetch_count

    async def refresh(self) -> None:
        """Fetch the set now (joining a fetch already in flight).

        Raises `JWKSFetchError` when the fetch fails; the previous set stays in use.
        """
        await self._shared_fetch()

    async def ready(self) -> bool:
        """Whether tokens can be checked: a set is held, or one could be fetched now.

        Without a set, this tries one fetch (or joins the one in flight) unless
        the last attempt failed within the cooldown; it never raises.
        """
        if self._keys:
            return True
        try:
            await self._fetch_first_set()
        except JWKSUnavailableError:
            return False
        return True

    async def get_signing_key(self, kid: str | None) -> jwt.PyJWK:
        """The key to verify a token whose header names `kid`.

        Raises `InvalidTokenError` when no such key exists (or `kid` is None and
        the choice is ambiguous) and `JWKSUnavailableError` when no set has ever
        been fetched and none can be now (the fetch fails, or the last one failed
        within the cooldown).
        """
        just_fetched = await self._ensure_fresh()
        key = self._find(kid)
        if key is not None:
            return key
        if kid is None:
            raise InvalidTokenError("token has no key id")
        if not just_fetched and await self._refetch_for_unknown_kid():
            key = self._find(kid)
            if key is not None:
                return key
        raise InvalidTokenError("unknown signing key")

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return self._keys[0] if len(self._keys) == 1 else None
        for key in self._keys:
            if key.key_id == kid:
                return key
        return None

    async def _ensure_fresh(self) -> bool:
        """Fetch if there is no set or it is due; True when a fetch just succeeded."""
        if not self._keys:
            await self._fetch_first_set()
            return True
        now = self._clock()
        assert self._fetched_at is not None
        if now - self._fetched_at < self._refresh_interval or self._failed_recently(now):
            return False
        # On failure the stale set keeps serving: that beats refusing every user
        # while the issuer is down.
        return await self._shared_fetch_succeeded()

    async def _fetch_first_set(self) -> None:
        """Fetch a set when none is held; raises `JWKSUnavailableError` if none can be had.

        Callers arriving while a fetch is in flight share it; after it fails,
        nothing new is fetched until the cooldown has passed, so traffic during
        an issuer outage costs one fetch per cooldown, not one per request.
        """
        if self._in_flight is None and self._failed_recently(self._clock()):
            raise JWKSUnavailableError("the issuer's signing keys are unavailable")
        try:
            await self._shared_fetch()
        except JWKSFetchError as exc:
            raise JWKSUnavailableError("the issuer's signing keys are unavailable") from exc

    def _failed_recently(self, now: float) -> bool:
        last = self._last_failed_at
        return last is not None and now - last < self._unknown_kid_cooldown

    async def _refetch_for_unknown_kid(self) -> bool:
        """Refetch if allowed; True when a fetch completed successfully."""
        if self._in_flight is None:
            now = self._clock()
            last = self._last_unknown_kid_refetch_at
            if last is not None and now - last < self._unknown_kid_cooldown:
                return False
            self._last_unknown_kid_refetch_at = now
        return await self._shared_fetch_succeeded()

    async def _shared_fetch_succeeded(self) -> bool:
        """Join (or start) the shared fetch; whether it succeeded. A failure is logged for
        operators when it is recorded."""
        try:
            await self._shared_fetch()
        except JWKSFetchError:
            return False
        return True

    async def _shared_fetch(self) -> None:
        if self._in_flight is None:
            task = asyncio.get_running_loop().create_task(self._fetch_and_install())
            task.add_done_callback(self._fetch_finished)
            self._in_flight = task
        # shield: one caller giving up (request cancelled) must not cancel the
        # fetch the other callers are waiting on.
        await asyncio.shield(self._in_flight)

    def _fetch_finished(self, task: asyncio.Task[None]) -> None:
        if self._in_flight is task:
            self._in_flight = None
        if not task.cancelled():
            # Mark the exception retrieved: when every waiter was cancelled,
            # nobody else will, and asyncio would log it as lost.
            task.exception()

    async def _fetch_and_install(self) -> None:
        self._fetch_count += 1
        try:
            document = await self._fetch()
            keys = _usable_signing_keys(document)
        except JWKSFetchError as exc:
            self._record_failure(exc)
            raise
        except Exception as exc:
            # The fetcher is pluggable, so anything may come out of it; callers
            # should only ever have to handle JWKSFetchError.
            error = JWKSFetchError(f"JWKS fetch failed: {type(exc).__name__}")
            self._record_failure(error)
            raise error from exc
        if self._last_failed_at is not None:
            logger.info("the issuer's JWKS was fetched again after a failure")
        self._keys = keys
        self._fetched_at = self._clock()
        self._last_failed_at = None

    def _record_failure(self, error: JWKSFetchError) -> None:
        logger.warning("could not fetch the issuer's JWKS: %s", error)
        self._last_failed_at = self._clock()


def _usable_signing_keys(document: Mapping[str, Any]) -> list[jwt.PyJWK]:
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, list):
        raise JWKSFetchError("JWKS document has no 'keys' list")
    keys: list[jwt.PyJWK] = []
    for raw in raw_keys:
        if not isinstance(raw, dict) or raw.get("kty") != "RSA":
            continue
        if raw.get("use", "sig") != "sig":
            continue
        try:
            keys.append(jwt.PyJWK(raw))
        except jwt.PyJWTError:
            # One malformed key should not cost us the rest of the set.
            continue
    if not keys:
        # An issuer never publishes an empty set on purpose; wiping our keys on
        # a broken response would log everyone out, so treat it as a failure.
        raise JWKSFetchError("JWKS document has no usable RSA signing keys")
    return keys
