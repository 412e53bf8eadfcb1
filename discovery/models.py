"""Value objects exchanged between providers and the rest of the service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from discovery.urls import NormalisedURL

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MIN_RESULTS = 1
MAX_RESULTS = 100

# Keys of the step-2 website analysis that describe who the site serves. Only
# string values are used: the object comes from the browser and is never
# interpreted as anything but text.
_ANALYSIS_TEXT_KEYS = (
    "target_audience",
    "content_type",
    "industry",
    "business_description",
    "description",
)


@dataclass(frozen=True, slots=True)
class DiscoveryRequest:
    site: NormalisedURL
    industry_context: str | None
    num_results: int
    website_analysis: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.num_results, bool) or not (
            MIN_RESULTS <= self.num_results <= MAX_RESULTS
        ):
            raise ValueError(f"num_results must be between {MIN_RESULTS} and {MAX_RESULTS}")


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def analysis_industry_context(analysis: Mapping[str, Any] | None) -> str | None:
    """``recommended_settings.industry_context`` when it is a non-empty string."""
    if not isinstance(analysis, Mapping):
        return None
    settings = analysis.get("recommended_settings")
    if not isinstance(settings, Mapping):
        return None
    return _text(settings.get("industry_context"))


def domain_words(site: NormalisedURL) -> str:
    """The words of the domain label: "acme-shoes.co.uk" -> "acme shoes"."""
    return " ".join(w for w in site.domain_label.replace("_", "-").split("-") if w)


def targeting_text(request: DiscoveryRequest) -> str:
    """The text that describes the user's business, for ranking and queries."""
    parts: list[str] = []
    if (context := _text(request.industry_context)) is not None:
        parts.append(context)
    analysis = request.website_analysis
    if isinstance(analysis, Mapping):
        for key in _ANALYSIS_TEXT_KEYS:
            if (value := _text(analysis.get(key))) is not None:
                parts.append(value)
        if (recommended := analysis_industry_context(analysis)) is not None:
            parts.append(recommended)
    parts.append(domain_words(request.site))
    return " ".join(p for p in parts if p)


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    # `dataclasses.fields` builds its answer anew at each call; a discovery asks
    # it for every competitor several times over.
    return tuple(field.name for field in fields(record_type))


def fields_of(record: DataclassInstance) -> dict[str, Any]:
    """A flat record's fields by name (strings, numbers, tuples of strings).

    What `dataclasses.asdict` gives for these records, without its recursive
    deep copy of every value.
    """
    return {name: getattr(record, name) for name in _field_names(type(record))}


@dataclass(frozen=True, slots=True)
class Competitor:
    url: str
    domain: str
    title: str | None = None
    summary: str | None = None
    highlights: tuple[str, ...] = ()
    published_date: str | None = None
    author: str | None = None
    favicon: str | None = None
    image: str | None = None
    relevance_score: float | None = None


@dataclass(frozen=True, slots=True)
class SocialMediaAccounts:
    """Each field is an absolute https URL on that network, or None."""

    facebook: str | None = None
    twitter: str | None = None
    instagram: str | None = None
    linkedin: str | None = None
    youtube: str | None = None
    tiktok: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "facebook": self.facebook,
            "twitter": self.twitter,
            "instagram": self.instagram,
            "linkedin": self.linkedin,
            "youtube": self.youtube,
            "tiktok": self.tiktok,
        }

    def present(self) -> tuple[str, ...]:
        """Names of the networks with an account."""
        return tuple(name for name, url in self.as_dict().items() if url is not None)


@dataclass(frozen=True, slots=True)
class Citation:
    url: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    competitors: tuple[Competitor, ...]
    social_media_accounts: SocialMediaAccounts
    social_media_citations: tuple[Citation, ...]
    provider: str
    requested_results: int
    shortfall: int = 0


class CompetitorProvider(Protocol):
    """Anything that can find competitors for a site."""

    name: str

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult: ...
