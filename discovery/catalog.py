"""The offline catalog: JSON Lines parsing, the bundled sample, and its provider.

Each line is an object ``{url, name, description, industry, social}`` where
``social`` maps facebook/twitter/instagram/linkedin/youtube/tiktok to a URL or
null. The service keeps the entries in its database (resolvers/catalog.py);
``CatalogProvider`` only needs a coroutine that returns them.

Ranking: TF-IDF cosine (see ranking.py) between the request's targeting text,
with the industry context counted twice, and each entry's name, description and
industry (industry counted twice). Entries with zero similarity still follow
the positive ones, scored 0.0, so the catalog returns up to ``num_results``; a
shortfall is reported only when the catalog holds fewer entries than asked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from discovery.errors import CatalogFormatError, InvalidURLError
from discovery.models import (
    Citation,
    Competitor,
    DiscoveryRequest,
    DiscoveryResult,
    SocialMediaAccounts,
    analysis_industry_context,
    targeting_text,
)
from discovery.ranking import TfIdfIndex
from discovery.social import NETWORKS, clean_social_url
from discovery.urls import is_same_site, normalise_url

MAX_FIELD_LENGTH = 2000
_REQUIRED_TEXT = ("name", "description", "industry")
_EMPTY_SOCIAL: Mapping[str, str | None] = MappingProxyType(dict.fromkeys(NETWORKS))


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    url: str
    domain: str
    name: str
    description: str
    industry: str
    social: Mapping[str, str | None] = field(default_factory=lambda: _EMPTY_SOCIAL)

    def document(self) -> str:
        """The text the entry is ranked on."""
        return f"{self.name} {self.description} {self.industry} {self.industry}"

    def social_accounts(self) -> SocialMediaAccounts:
        return SocialMediaAccounts(**{n: self.social.get(n) for n in NETWORKS})


def _parse_social(value: object, line: int) -> Mapping[str, str | None]:
    if value is None:
        return _EMPTY_SOCIAL
    if not isinstance(value, Mapping):
        raise CatalogFormatError(line, '"social" must be an object or null')
    unknown = sorted(set(value) - set(NETWORKS))
    if unknown:
        raise CatalogFormatError(line, f'"social" has unknown network(s): {", ".join(unknown)}')
    social: dict[str, str | None] = dict.fromkeys(NETWORKS)
    for network, raw in value.items():
        if raw is None:
            continue
        cleaned = clean_social_url(network, raw)
        if cleaned is None:
            raise CatalogFormatError(line, f'"social.{network}" is not a {network} profile URL')
        social[network] = cleaned
    return MappingProxyType(social)


def _parse_entry(data: object, line: int) -> CatalogEntry:
    if not isinstance(data, Mapping):
        raise CatalogFormatError(line, "expected a JSON object")
    url = data.get("url")
    if not isinstance(url, str):
        raise CatalogFormatError(line, '"url" must be a string')
    try:
        site = normalise_url(url)
    except InvalidURLError as exc:
        raise CatalogFormatError(line, f'"url" is invalid: {exc}') from None
    texts: dict[str, str] = {}
    for key in _REQUIRED_TEXT:
        value: Any = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CatalogFormatError(line, f'"{key}" must be a non-empty string')
        if len(value) > MAX_FIELD_LENGTH:
            raise CatalogFormatError(line, f'"{key}" is longer than {MAX_FIELD_LENGTH} characters')
        texts[key] = value.strip()
    return CatalogEntry(
        url=site.url,
        domain=site.registrable_domain,
        name=texts["name"],
        description=texts["description"],
        industry=texts["industry"],
        social=_parse_social(data.get("social"), line),
    )


def parse_catalog_lines(lines: Iterable[str]) -> list[CatalogEntry]:
    """Parse JSON Lines; blank lines are skipped, errors name the 1-based line."""
    entries: list[CatalogEntry] = []
    first_line: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogFormatError(number, f"not valid JSON ({exc.msg})") from None
        entry = _parse_entry(data, number)
        if entry.domain in first_line:
            first = first_line[entry.domain]
            raise CatalogFormatError(
                number, f"duplicate domain {entry.domain} (first on line {first})"
            )
        first_line[entry.domain] = number
        entries.append(entry)
    return entries


def load_bundled_catalog() -> list[CatalogEntry]:
    """The sample catalog shipped in ``discovery/data/catalog.jsonl``."""
    text = resources.files("discovery").joinpath("data", "catalog.jsonl").read_text("utf-8")
    return parse_catalog_lines(text.splitlines())


class CatalogProvider:
    """A CompetitorProvider that ranks an offline catalog; needs no network."""

    name = "catalog"

    def __init__(self, load_entries: Callable[[], Awaitable[Sequence[CatalogEntry]]]) -> None:
        self._load_entries = load_entries

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        own_domain = request.site.registrable_domain
        entries = await self._load_entries()
        own = next((e for e in entries if e.domain == own_domain), None)
        candidates = [e for e in entries if not is_same_site(e.domain, own_domain)]

        index = TfIdfIndex([e.document() for e in candidates])
        scores = index.scores(_query(request))
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i].name))
        competitors = tuple(
            Competitor(
                url=candidates[i].url,
                domain=candidates[i].domain,
                title=candidates[i].name,
                summary=candidates[i].description,
                highlights=(candidates[i].industry,),
                relevance_score=round(scores[i], 4),
            )
            for i in order[: request.num_results]
        )

        accounts = own.social_accounts() if own is not None else SocialMediaAccounts()
        citations = tuple(
            Citation(url=url, title=f"{own.name} on {network}")
            for network, url in accounts.as_dict().items()
            if url is not None and own is not None
        )
        return DiscoveryResult(
            competitors=competitors,
            social_media_accounts=accounts,
            social_media_citations=citations,
            provider=self.name,
            requested_results=request.num_results,
            shortfall=request.num_results - len(competitors),
        )


def _query(request: DiscoveryRequest) -> str:
    # The industry the user typed (or step 2 recommended) says more about who
    # competes with them than the rest of the analysis, so it counts twice.
    emphasis = [
        text
        for text in (request.industry_context, analysis_industry_context(request.website_analysis))
        if isinstance(text, str) and text.strip()
    ]
    return " ".join([targeting_text(request), *emphasis])
