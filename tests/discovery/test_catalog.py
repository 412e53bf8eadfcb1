"""The bundled catalog, catalog parsing and the catalog provider's ranking."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import pytest

from discovery import (
    CatalogEntry,
    CatalogFormatError,
    CatalogProvider,
    DiscoveryRequest,
    load_bundled_catalog,
    normalise_url,
    parse_catalog_lines,
    summarise_research,
)

ECOMMERCE = "E-commerce"


def provider_over(entries: Sequence[CatalogEntry]) -> CatalogProvider:
    async def load() -> Sequence[CatalogEntry]:
        return entries

    return CatalogProvider(load)


def test_bundled_catalog_is_broad_and_valid() -> None:
    # given the bundled catalog
    entries = load_bundled_catalog()
    industries = Counter(e.industry for e in entries)
    # then it is large, varied, unique by domain and has valid URLs
    assert len(entries) >= 120
    assert len(industries) >= 10
    assert industries[ECOMMERCE] >= 12
    assert len({e.domain for e in entries}) == len(entries)
    for entry in entries:
        assert normalise_url(entry.url).url == entry.url
        assert set(entry.social) == {
            "facebook",
            "twitter",
            "instagram",
            "linkedin",
            "youtube",
            "tiktok",
        }
        assert all(v is None or v.startswith("https://") for v in entry.social.values())


async def test_ecommerce_request_ranks_ecommerce_first() -> None:
    # given the bundled catalog and an e-commerce shop aimed at online shoppers
    catalog = load_bundled_catalog()
    request = DiscoveryRequest(
        site=normalise_url("https://www.my-little-shop.com"),
        industry_context="e-commerce",
        num_results=10,
        website_analysis={"target_audience": "online shoppers", "content_type": 42},
    )
    # when the catalog provider ranks it
    result = await provider_over(catalog).discover(request)
    # then the top results are e-commerce companies, best first, scored 0..1
    industry = {e.domain: e.industry for e in catalog}
    assert len(result.competitors) == 10
    assert all(industry[c.domain] == ECOMMERCE for c in result.competitors)
    scores = [c.relevance_score or 0.0 for c in result.competitors]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert result.provider == "catalog"
    assert result.shortfall == 0


async def test_own_domain_is_excluded_and_its_socials_returned() -> None:
    # given the catalog and Shopify asking about itself from a subdomain
    request = DiscoveryRequest(
        site=normalise_url("https://help.shopify.com"),
        industry_context="e-commerce",
        num_results=100,
    )
    # when ranked
    result = await provider_over(load_bundled_catalog()).discover(request)
    # then shopify.com never appears, and its own social accounts come back
    assert all(c.domain != "shopify.com" for c in result.competitors)
    assert result.social_media_accounts.linkedin == "https://www.linkedin.com/company/shopify"
    assert result.social_media_citations


async def test_shortfall_when_catalog_is_small() -> None:
    # given a three-entry catalog
    entries = parse_catalog_lines(
        json.dumps(
            {"url": f"https://c{n}.com", "name": f"C{n}", "description": "d", "industry": "x"}
        )
        for n in range(3)
    )
    request = DiscoveryRequest(site=normalise_url("a.com"), industry_context=None, num_results=5)
    # when five are requested
    result = await provider_over(entries).discover(request)
    # then three come back, with a shortfall of two noted in the summary
    assert len(result.competitors) == 3
    assert result.shortfall == 2
    assert any("Only 3 of the 5" in f for f in summarise_research(result).key_findings)


GOOD = json.dumps({"url": "https://a.com", "name": "A", "description": "d", "industry": "i"})


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (
            json.dumps({"url": "ftp://b.com", "name": "B", "description": "d", "industry": "i"}),
            "url",
        ),
        (
            json.dumps({"url": "https://b.com", "name": "", "description": "d", "industry": "i"}),
            "name",
        ),
        (
            json.dumps(
                {
                    "url": "https://b.com",
                    "name": "B",
                    "description": "d",
                    "industry": "i",
                    "social": {"twitter": "/relative"},
                }
            ),
            "social.twitter",
        ),
        (
            json.dumps(
                {
                    "url": "https://b.com",
                    "name": "B",
                    "description": "d",
                    "industry": "i",
                    "social": {"myspace": None},
                }
            ),
            "unknown network",
        ),
        (
            json.dumps(
                {"url": "https://www.a.com", "name": "A2", "description": "d", "industry": "i"}
            ),
            "duplicate domain a.com",
        ),
    ],
)
def test_parse_errors_name_the_line(bad_line: str, reason: str) -> None:
    # given a good line, a blank line and a bad third line
    lines = [GOOD, "", bad_line]
    # when parsed, then the error names line 3 and the reason
    with pytest.raises(CatalogFormatError, match=reason) as caught:
        parse_catalog_lines(lines)
    assert caught.value.line == 3
    assert str(caught.value).startswith("line 3:")
