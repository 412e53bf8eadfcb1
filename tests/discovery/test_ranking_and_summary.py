"""Targeting text, TF-IDF ranking and the research summary."""

from __future__ import annotations

from discovery import (
    Competitor,
    DiscoveryRequest,
    DiscoveryResult,
    SocialMediaAccounts,
    normalise_url,
    summarise_research,
    targeting_text,
)
from discovery.ranking import TfIdfIndex, tokenize


def test_targeting_text_uses_only_string_fields_and_domain_words() -> None:
    # given an analysis with strings, non-strings and nested settings
    request = DiscoveryRequest(
        site=normalise_url("https://shop.acme-shoes.co.uk"),
        industry_context="Footwear",
        num_results=5,
        website_analysis={
            "target_audience": "runners",
            "content_type": ["not", "a", "string"],
            "recommended_settings": {"industry_context": "sports retail"},
            "industry": None,
            "description": "__import__('os').system('x')",
        },
    )
    # when the targeting text is built
    text = targeting_text(request)
    # then strings are used verbatim as text, others ignored, domain words added
    assert "Footwear" in text
    assert "runners" in text
    assert "sports retail" in text
    assert "acme shoes" in text
    assert "not" not in text.split()


def test_ranking_prefers_shared_rare_words() -> None:
    # given three documents
    docs = ["online shoppers marketplace", "video games console", "online courses"]
    # when scored for an e-commerce query
    scores = TfIdfIndex(docs).scores("e-commerce online shoppers")
    # then the marketplace wins, unrelated documents score zero
    assert max(range(len(docs)), key=scores.__getitem__) == 0
    assert scores[1] == 0.0
    assert 0.0 < scores[2] < scores[0] <= 1.0
    assert tokenize("The E-Commerce & eCommerce!") == ["commerce", "commerce"]
    assert TfIdfIndex(docs).scores("") == [0.0, 0.0, 0.0]


def _competitor(n: int, score: float | None) -> Competitor:
    return Competitor(url=f"https://c{n}.com/", domain=f"c{n}.com", relevance_score=score)


def test_summary_counts_threats_and_describes_landscape() -> None:
    # given six competitors, five at or above the 0.75 threshold
    result = DiscoveryResult(
        competitors=tuple(
            _competitor(n, s) for n, s in enumerate([0.9, 0.8, 0.75, 0.76, 0.99, 0.2])
        ),
        social_media_accounts=SocialMediaAccounts(twitter="https://x.com/acme"),
        social_media_citations=(),
        provider="exa",
        requested_results=6,
    )
    # when summarised
    summary = summarise_research(result)
    # then the counts, landscape and findings follow
    assert summary.total_competitors == 6
    assert summary.high_threat_count == 5
    assert summary.competitive_landscape == "highly competitive"
    assert summary.key_findings[0].startswith("Closest competitors by relevance: c4.com (0.99)")
    assert any("1 of 6 social networks (twitter)" in f for f in summary.key_findings)


def test_summary_of_nothing() -> None:
    # given no competitors, when summarised, then the landscape says so
    empty = DiscoveryResult((), SocialMediaAccounts(), (), "catalog", 5, shortfall=5)
    summary = summarise_research(empty)
    assert summary.competitive_landscape == "no competitors found"
    assert summary.total_competitors == 0
    assert summary.high_threat_count == 0
