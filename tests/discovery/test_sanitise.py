"""The gate between a provider's answer and storage: plain text, web URLs, ISO dates, a size cap."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.stored_json import encode_stored_json
from discovery import Citation, Competitor, DiscoveryResult, SocialMediaAccounts
from discovery.sanitise import (
    MAX_HIGHLIGHT,
    MAX_HIGHLIGHTS,
    MAX_STORED_BYTES,
    MAX_SUMMARY,
    MAX_TITLE,
    iso_date,
    plain_text,
    sanitise_result,
    web_url,
)
from discovery.summary import summarise_research

MARKUP_CHARACTERS = "<>/&;#x3lg!?-abscript =\"'\x00\u202e "


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("<b>Acme</b> &amp; Co", "Acme & Co"),
        ("<p>one</p><p>two</p>", "one two"),
        ("<script>alert(1)</script>Hi<style>p{}</style>", "Hi"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;Hi", "Hi"),
        ('<a href="javascript:alert(1)">link</a>', "link"),
        ("<img src=x onerror=alert(1)>", None),
        ("x < y and y > z", "x < y and y > z"),
        ("\u202eevil\x00  \n\t twin", "evil twin"),
        ("&#x202e;rtl", "rtl"),
        ("  ", None),
        (42, None),
        (None, None),
    ],
)
def test_plain_text(raw: object, text: str | None) -> None:
    assert plain_text(raw, 100) == text


def test_plain_text_is_cut_to_its_cap_with_an_ellipsis() -> None:
    assert plain_text("word " * 100, 20) == "word word word word…"
    assert len(plain_text("<b>" + "a" * 10_000 + "</b>", 50) or "") == 50


@settings(max_examples=300, deadline=None)
@given(raw=st.text(alphabet=st.sampled_from(list(MARKUP_CHARACTERS)), max_size=80))
def test_plain_text_never_leaves_a_tag_a_control_or_an_override(raw: str) -> None:
    text = plain_text(raw, 40)
    if text is not None:
        assert len(text) <= 40
        assert not any(text[i] == "<" and text[i + 1 : i + 2].isalpha() for i in range(len(text)))
        assert "\x00" not in text
        assert "\u202e" not in text


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://Example.com/a b", None),
        (
            'https://example.com/a"><img/onerror=alert(1)>',
            "https://example.com/a%22%3E%3Cimg/onerror=alert(1)%3E",
        ),
        ("HTTPS://CDN.Example.com/ü.png?s='x'", "https://cdn.example.com/%C3%BC.png?s=%27x%27"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("/favicon.ico", None),
        ("example.com/favicon.ico", None),
        ("http://127.0.0.1/x.png", None),
        ("https://user:pw@example.com/", None),
        (None, None),
    ],
)
def test_web_url(raw: object, url: str | None) -> None:
    assert web_url(raw) == url


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-01-31", "2024-01-31"),
        ("20240131", "2024-01-31"),
        ("2023-11-16T01:36:32.547Z", "2023-11-16T01:36:32Z"),
        ("2024-02-29T01:00:00+02:00", "2024-02-28T23:00:00Z"),
        ("2024-02-30", None),
        ("last week", None),
        ("<script>", None),
        ("2024-01-31T00:00:00." + "0" * 30 + "Z", None),
        (20240131, None),
    ],
)
def test_iso_date(raw: object, iso: str | None) -> None:
    assert iso_date(raw) == iso


def _huge_competitor(n: int) -> Competitor:
    filler = "y" * 10_000
    return Competitor(
        url=f"https://rival{n}.com/" + "p" * 1900,
        domain=f"rival{n}.com",
        title=filler,
        summary=filler,
        highlights=(filler,) * 10,
        author=filler,
        favicon=f"https://rival{n}.com/" + "f" * 1900,
        image=f"https://rival{n}.com/" + "i" * 1900,
        relevance_score=0.5,
    )


def test_fields_are_capped_and_the_stored_document_is_bounded() -> None:
    # given 100 competitors whose every field is far beyond its cap
    result = DiscoveryResult(
        competitors=tuple(_huge_competitor(n) for n in range(100)),
        social_media_accounts=SocialMediaAccounts(twitter="https://x.com/acme"),
        social_media_citations=(Citation(url="https://x.com/acme", title="<b>Acme</b>"),),
        provider="exa",
        requested_results=100,
    )
    # when sanitised
    safe = sanitise_result(result)
    # then each field is within its cap
    first = safe.competitors[0]
    assert (len(first.title or ""), len(first.summary or "")) == (MAX_TITLE, MAX_SUMMARY)
    assert len(first.highlights) == MAX_HIGHLIGHTS
    assert {len(h) for h in first.highlights} == {MAX_HIGHLIGHT}
    # and the whole, summary included, fits the stored cap: the lowest ranked were dropped
    stored = {
        "competitors": [asdict(c) for c in safe.competitors],
        "social_media_accounts": safe.social_media_accounts.as_dict(),
        "social_media_citations": [asdict(c) for c in safe.social_media_citations],
        "research_summary": asdict(summarise_research(safe)),
    }
    assert len(encode_stored_json(stored)) <= MAX_STORED_BYTES
    assert 0 < len(safe.competitors) < 100
    assert [c.domain for c in safe.competitors] == [
        f"rival{n}.com" for n in range(len(safe.competitors))
    ]
    # and the answer says how many it could not keep
    assert safe.shortfall == 100 - len(safe.competitors)
    assert safe.social_media_citations == (Citation(url="https://x.com/acme", title="Acme"),)


def test_a_competitor_without_a_web_url_is_dropped_and_counted() -> None:
    result = DiscoveryResult(
        competitors=(
            Competitor(url="javascript:alert(1)", domain="evil.com"),
            Competitor(url="https://good.com/", domain="good.com"),
        ),
        social_media_accounts=SocialMediaAccounts(),
        social_media_citations=(),
        provider="exa",
        requested_results=3,
        shortfall=1,
    )
    safe = sanitise_result(result)
    assert [c.url for c in safe.competitors] == ["https://good.com/"]
    assert safe.shortfall == 2
