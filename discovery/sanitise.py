"""A provider's answer made safe to store and show: the one gate between providers and storage.

A provider answers with text scraped from the web and URLs it did not check.
Before anything of it is stored:

* URLs (competitor, favicon, image, citations, social profiles) are absolute
  http(s) URLs normalised and percent-encoded by `normalise_url`, the rule
  every URL we keep follows; anything else (`javascript:`, `data:`, relative,
  an IP address) is null, and a competitor or citation without a usable URL
  is dropped.
* Text (title, summary, highlights, author, citation titles) is plain text:
  tags removed (with the content of `script`/`style`/`template`), entities
  decoded, and what decoding turned back into a tag removed too; control,
  bidirectional-override and lone-surrogate characters removed; white space
  collapsed; each field cut to its cap (a cut ends with "…").
* `publishedDate` is an ISO-8601 date (`2024-01-31`) or UTC date-time
  (`2024-01-31T08:15:00Z`), else null; a score is a finite number in [0, 1].
* The stored document is at most `MAX_STORED_BYTES`: past it, the lowest
  ranked competitors are dropped and counted in the shortfall, so the answer
  says how many it could not keep.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Final

from db.stored_json import encode_stored_json
from discovery.errors import InvalidURLError
from discovery.models import (
    Citation,
    Competitor,
    DiscoveryResult,
    SocialMediaAccounts,
    fields_of,
)
from discovery.social import clean_social_url
from discovery.urls import NormalisedURL, normalise_url

MAX_TITLE: Final = 300
MAX_SUMMARY: Final = 2000
MAX_HIGHLIGHT: Final = 500
MAX_HIGHLIGHTS: Final = 5
MAX_AUTHOR: Final = 200
MAX_CITATIONS: Final = 20
MAX_STORED_BYTES: Final = 512 * 1024
# Room for the research summary, written after the result is sanitised.
_SUMMARY_ALLOWANCE: Final = 8 * 1024
# Markup around a field's text rarely triples it; parsing more only burns CPU.
_RAW_TEXT_FACTOR: Final = 4
_MAX_DATE_TEXT: Final = 40
_PASSES: Final = 3

_HIDDEN_ELEMENTS: Final = frozenset({"script", "style", "template", "noscript"})
_TAG_START = re.compile(r"<+(?=[A-Za-z/!?])")
# C0/C1 controls, bidirectional embeddings/overrides/isolates, lone surrogates.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_WHITESPACE = re.compile(r"\s+")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden += 1
        else:
            self.parts.append(" ")  # "<p>a</p><p>b</p>" reads "a b", not "ab"

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden = max(0, self._hidden - 1)
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _strip_markup(text: str) -> str:
    for _ in range(_PASSES):
        if "<" not in text and "&" not in text:
            return text
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        stripped = "".join(parser.parts)
        if stripped == text:
            return text
        text = stripped
    # Still changing after every pass (entities nested in entities): no "<" that
    # could open a tag survives.
    return _TAG_START.sub("", text)


def plain_text(value: object, limit: int) -> str | None:
    """`value` as one line of plain text of at most `limit` characters; None if nothing is left."""
    if not isinstance(value, str):
        return None
    text = _strip_markup(value[: limit * _RAW_TEXT_FACTOR])
    text = _WHITESPACE.sub(" ", _INVISIBLE.sub("", text)).strip()
    if _TAG_START.search(text):
        text = _TAG_START.sub("", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def _site(value: object) -> NormalisedURL | None:
    if not isinstance(value, str):
        return None
    try:
        return normalise_url(value, require_scheme=True)
    except InvalidURLError:
        return None


def web_url(value: object) -> str | None:
    """An absolute http(s) URL, normalised and percent-encoded, or None."""
    site = _site(value)
    return site.url if site is not None else None


def iso_date(value: object) -> str | None:
    """An ISO-8601 date, or a date-time as UTC to the second; None for anything else."""
    if not isinstance(value, str) or len(value.strip()) > _MAX_DATE_TEXT:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return min(1.0, max(0.0, float(value)))


def _competitor(raw: Competitor) -> Competitor | None:
    site = _site(raw.url)
    if site is None:
        return None
    highlights = (plain_text(h, MAX_HIGHLIGHT) for h in raw.highlights[:MAX_HIGHLIGHTS])
    return Competitor(
        url=site.url,
        domain=site.registrable_domain,
        title=plain_text(raw.title, MAX_TITLE),
        summary=plain_text(raw.summary, MAX_SUMMARY),
        highlights=tuple(h for h in highlights if h is not None),
        published_date=iso_date(raw.published_date),
        author=plain_text(raw.author, MAX_AUTHOR),
        favicon=web_url(raw.favicon),
        image=web_url(raw.image),
        relevance_score=_score(raw.relevance_score),
    )


def _citation(raw: Citation) -> Citation | None:
    url = web_url(raw.url)
    return Citation(url=url, title=plain_text(raw.title, MAX_TITLE)) if url is not None else None


def _accounts(raw: SocialMediaAccounts) -> SocialMediaAccounts:
    return SocialMediaAccounts(
        **{network: clean_social_url(network, url) for network, url in raw.as_dict().items()}
    )


def _size(value: object) -> int:
    return len(encode_stored_json(value))


def _within_budget(competitors: list[Competitor], budget: int) -> list[Competitor]:
    records = [fields_of(competitor) for competitor in competitors]
    # The list as stored is the items and a "," between each, in brackets: as long
    # as the count below once every item is in. Usually all fit, and one encoding says so.
    if _size(records) <= budget:
        return competitors
    used = 0
    for kept, record in enumerate(records):
        used += _size(record) + 1  # the "," between list items
        if used > budget:
            return competitors[:kept]
    return competitors


def sanitise_result(result: DiscoveryResult) -> DiscoveryResult:
    """`result` with every field made safe and bounded, as the module docstring says."""
    competitors = [c for c in map(_competitor, result.competitors) if c is not None]
    citations = tuple(
        c for c in map(_citation, result.social_media_citations[:MAX_CITATIONS]) if c is not None
    )
    accounts = _accounts(result.social_media_accounts)
    rest = _size([accounts.as_dict(), [fields_of(c) for c in citations]])
    kept = _within_budget(competitors, MAX_STORED_BYTES - _SUMMARY_ALLOWANCE - rest)
    return replace(
        result,
        competitors=tuple(kept),
        social_media_accounts=accounts,
        social_media_citations=citations,
        shortfall=result.shortfall + len(result.competitors) - len(kept),
    )
