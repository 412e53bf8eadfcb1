"""Competitor discovery: providers (Exa, offline catalog), URLs, ranking, summary."""

from discovery.catalog import (
    CatalogEntry,
    CatalogProvider,
    load_bundled_catalog,
    parse_catalog_lines,
)
from discovery.errors import (
    CatalogFormatError,
    InvalidURLError,
    ProviderError,
    ProviderMisconfiguredError,
    ProviderUnavailableError,
)
from discovery.exa import ExaProvider
from discovery.models import (
    Citation,
    Competitor,
    CompetitorProvider,
    DiscoveryRequest,
    DiscoveryResult,
    SocialMediaAccounts,
    fields_of,
    targeting_text,
)
from discovery.sanitise import sanitise_result
from discovery.social import clean_social_accounts
from discovery.summary import HIGH_THREAT_THRESHOLD, ResearchSummary, summarise_research
from discovery.urls import NormalisedURL, is_same_site, normalise_url

__all__ = [
    "HIGH_THREAT_THRESHOLD",
    "CatalogEntry",
    "CatalogFormatError",
    "CatalogProvider",
    "Citation",
    "Competitor",
    "CompetitorProvider",
    "DiscoveryRequest",
    "DiscoveryResult",
    "ExaProvider",
    "InvalidURLError",
    "NormalisedURL",
    "ProviderError",
    "ProviderMisconfiguredError",
    "ProviderUnavailableError",
    "ResearchSummary",
    "SocialMediaAccounts",
    "clean_social_accounts",
    "fields_of",
    "is_same_site",
    "load_bundled_catalog",
    "normalise_url",
    "parse_catalog_lines",
    "sanitise_result",
    "summarise_research",
    "targeting_text",
]
