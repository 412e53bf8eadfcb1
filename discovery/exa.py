"""Competitor discovery through Exa's REST API.

Request and response shapes follow Exa's published OpenAPI spec
(docs.exa.ai/reference/openapi-spec, "Exa Search API" 1.2.0) and the exa-py SDK
(exa-labs/exa-py, ``exa_py/api.py``: ``find_similar_and_contents`` nests
``text``/``highlights``/``summary`` under ``contents`` and sends
``excludeSourceDomain``):

* auth: header ``x-api-key``; base URL ``https://api.exa.ai``;
* ``POST /findSimilar`` body ``{url, numResults, excludeDomains,
  excludeSourceDomain, contents: {text: {maxCharacters}, highlights:
  {numSentences, highlightsPerUrl, query}, summary: {query}}}``;
* ``POST /search`` body ``{query, numResults, includeDomains, contents}``;
* ``numResults`` is documented with ``maximum: 100``, default 10;
* both answer ``{requestId, results: [{id, url, title, score, publishedDate,
  author, image, favicon, text, highlights, highlightScores, summary}]}``.

The whole of ``discover()`` runs under one deadline; retries and their waits
are cut short rather than let it overrun.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from discovery import errors
from discovery.models import (
    Citation,
    Competitor,
    DiscoveryRequest,
    DiscoveryResult,
    SocialMediaAccounts,
    domain_words,
    targeting_text,
)
from discovery.social import NETWORK_HOSTS, clean_social_accounts, network_of_host
from discovery.urls import host_of, is_same_site, normalise_url

EXA_MAX_RESULTS_PER_CALL = 100
# findSimilar can keep returning the user's own pages or domains we already
# have; a few extra calls fill the gap, more would only burn quota.
MAX_COMPETITOR_CALLS = 4
SOCIAL_RESULTS = 20
TEXT_MAX_CHARACTERS = 1000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_SINGLE_WAIT = 30.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _str_or_none(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if math.isnan(value):
        return None
    return min(1.0, max(0.0, float(value)))


def _results(payload: object) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("results"), list):
        raise errors.ProviderUnavailableError(
            "The search provider sent an answer we could not read."
        )
    return [r for r in payload["results"] if isinstance(r, Mapping)]


class ExaProvider:
    """A CompetitorProvider backed by Exa (findSimilar + search).

    `session` is asked for the aiohttp session at every call: aiohttp ties a
    session to the running event loop, which does not run yet when this is made.
    """

    name = "exa"

    def __init__(
        self,
        api_key: str,
        *,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str = "https://api.exa.ai",
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
    ) -> None:
        self._api_key = api_key
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._backoff_base = max(0.0, backoff_base)

    def __repr__(self) -> str:
        return f"ExaProvider(base_url={self._base_url!r}, timeout={self._timeout!r})"

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        if not self._api_key.strip():
            raise errors.ProviderMisconfiguredError(
                "The search provider has no API key configured."
            )
        deadline = time.monotonic() + self._timeout
        try:
            async with asyncio.timeout(self._timeout):
                competitors, (accounts, citations) = await self._both_calls(request, deadline)
        except TimeoutError:
            raise errors.ProviderUnavailableError(
                "The search provider did not answer in time."
            ) from None
        return DiscoveryResult(
            competitors=tuple(competitors),
            social_media_accounts=accounts,
            social_media_citations=citations,
            provider=self.name,
            requested_results=request.num_results,
            shortfall=request.num_results - len(competitors),
        )

    async def _both_calls(
        self, request: DiscoveryRequest, deadline: float
    ) -> tuple[list[Competitor], tuple[SocialMediaAccounts, tuple[Citation, ...]]]:
        # The two calls are independent: running them together makes the
        # provider's latency count once per discovery, not twice. When one fails
        # the other is cancelled, and the first provider error is the answer.
        try:
            async with asyncio.TaskGroup() as group:
                competitors = group.create_task(self._competitors(request, deadline))
                social = group.create_task(self._social(request, deadline))
        except* errors.ProviderError as failed:
            raise failed.exceptions[0] from None
        return competitors.result(), social.result()

    # -- competitors -------------------------------------------------------

    def _find_similar_body(
        self, request: DiscoveryRequest, wanted: int, exclude: Sequence[str]
    ) -> dict[str, Any]:
        focus = targeting_text(request)
        return {
            "url": request.site.url,
            "numResults": wanted,
            "excludeDomains": list(exclude),
            "excludeSourceDomain": True,
            "contents": {
                "text": {"maxCharacters": TEXT_MAX_CHARACTERS},
                "highlights": {
                    "numSentences": 2,
                    "highlightsPerUrl": 3,
                    "query": f"What does this company offer, and to whom? {focus}",
                },
                "summary": {
                    "query": "Summarise what this company sells, to whom, and how it "
                    f"competes with a business about: {focus}",
                },
            },
        }

    async def _competitors(self, request: DiscoveryRequest, deadline: float) -> list[Competitor]:
        own = request.site.registrable_domain
        found: list[Competitor] = []
        seen: set[str] = set()
        rejected = 0
        for _ in range(MAX_COMPETITOR_CALLS):
            # Results we had to drop last time (own site, duplicates) tend to come
            # back, so a follow-up call asks for that many more than is missing.
            missing = request.num_results - len(found)
            wanted = min(EXA_MAX_RESULTS_PER_CALL, missing + rejected)
            body = self._find_similar_body(request, wanted, [own, *sorted(seen)])
            results = _results(await self._post("/findSimilar", body, deadline))
            rejected = 0
            for raw in results:
                competitor = self._competitor(raw, own)
                if competitor is None or competitor.domain in seen:
                    rejected += 1
                    continue
                seen.add(competitor.domain)
                found.append(competitor)
                if len(found) == request.num_results:
                    return found
            if len(results) < wanted:
                break  # Exa has nothing more like this site.
        return found

    @staticmethod
    def _competitor(raw: Mapping[str, Any], own_domain: str) -> Competitor | None:
        url = _str_or_none(raw.get("url"))
        if url is None:
            return None
        try:
            site = normalise_url(url)
        except errors.InvalidURLError:
            return None
        # Exa is asked to exclude the user's domain, but we never rely on it.
        if is_same_site(site.host, own_domain):
            return None
        highlights = raw.get("highlights")
        return Competitor(
            url=site.url,
            domain=site.registrable_domain,
            title=_str_or_none(raw.get("title")),
            summary=_str_or_none(raw.get("summary")),
            highlights=tuple(h.strip() for h in highlights if isinstance(h, str) and h.strip())
            if isinstance(highlights, list)
            else (),
            published_date=_str_or_none(raw.get("publishedDate")),
            author=_str_or_none(raw.get("author")),
            favicon=_str_or_none(raw.get("favicon")),
            image=_str_or_none(raw.get("image")),
            relevance_score=_score(raw.get("score")),
        )

    # -- social accounts ---------------------------------------------------

    async def _social(
        self, request: DiscoveryRequest, deadline: float
    ) -> tuple[SocialMediaAccounts, tuple[Citation, ...]]:
        words = domain_words(request.site)
        body = {
            "query": f"{words} ({request.site.registrable_domain}) official social media profile",
            "numResults": SOCIAL_RESULTS,
            "includeDomains": sorted({h for hosts in NETWORK_HOSTS.values() for h in hosts}),
        }
        try:
            results = _results(await self._post("/search", body, deadline))
        except errors.ProviderMisconfiguredError:
            raise
        except errors.ProviderError:
            # Competitors are the point of the call; missing profiles are not
            # worth failing it for.
            return SocialMediaAccounts(), ()
        return self._accounts_from(results, request.site.domain_label)

    @staticmethod
    def _accounts_from(
        results: Sequence[Mapping[str, Any]], label: str
    ) -> tuple[SocialMediaAccounts, tuple[Citation, ...]]:
        raw: dict[str, str] = {}
        chosen: dict[str, Citation] = {}
        # A result naming the company in its path beats one that merely mentions it.
        ordered = sorted(
            enumerate(results),
            key=lambda pair: (label.lower() not in str(pair[1].get("url", "")).lower(), pair[0]),
        )
        for _, result in ordered:
            url = result.get("url")
            if not isinstance(url, str):
                continue
            network = ExaProvider._network_of(url)
            if network is None or network in raw:
                continue
            cleaned = clean_social_accounts({network: url}).as_dict()[network]
            if cleaned is None:
                continue
            raw[network] = cleaned
            chosen[network] = Citation(url=cleaned, title=_str_or_none(result.get("title")))
        return clean_social_accounts(raw), tuple(chosen.values())

    @staticmethod
    def _network_of(url: str) -> str | None:
        host = host_of(url)
        return network_of_host(host) if host else None

    # -- transport ---------------------------------------------------------

    async def _post(self, path: str, body: Mapping[str, Any], deadline: float) -> object:
        url = f"{self._base_url}{path}"
        headers = {
            "x-api-key": self._api_key,
            "accept": "application/json",
            "content-type": "application/json",
        }
        data = orjson.dumps(body)
        for attempt in range(self._max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            status: int | None = None  # an error status; None when the call was lost
            retry_after: float | None = None
            try:
                async with self._session().post(
                    url, data=data, headers=headers, timeout=aiohttp.ClientTimeout(total=remaining)
                ) as response:
                    if 200 <= response.status < 300:
                        return self._json_of(await response.read())
                    status = response.status
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
            except (aiohttp.ClientError, TimeoutError):
                pass  # a lost connection, or this call's own timeout: retried within the deadline
            if status in (401, 403):
                raise errors.ProviderMisconfiguredError(
                    "The search provider rejected our credentials; check its API key."
                )
            if status is not None and status not in _RETRY_STATUSES:
                raise errors.ProviderUnavailableError(
                    f"The search provider refused the request (HTTP {status})."
                )
            if attempt == self._max_retries:
                break
            wait = retry_after if retry_after is not None else self._backoff_base * 2**attempt
            wait = min(wait, _MAX_SINGLE_WAIT)
            if wait >= deadline - time.monotonic():
                # Waiting would overrun the total timeout: fail now, not later.
                break
            await asyncio.sleep(wait)
        raise errors.ProviderUnavailableError(
            "The search provider is unavailable right now; please try again later."
        )

    @staticmethod
    def _json_of(content: bytes) -> object:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
        # What only `json` reads (NaN and Infinity, lone surrogates) is read as it was
        # before orjson; each value is checked and sanitised after either.
        try:
            return json.loads(content)
        except ValueError:
            raise errors.ProviderUnavailableError(
                "The search provider sent an answer we could not read."
            ) from None
