"""A hostile search provider's answer is stored sanitised and bounded (fake Exa on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.settings import Settings
from db.engine import create_engine
from db.models import competitor_discoveries
from discovery.sanitise import (
    MAX_AUTHOR,
    MAX_HIGHLIGHT,
    MAX_HIGHLIGHTS,
    MAX_STORED_BYTES,
    MAX_SUMMARY,
    MAX_TITLE,
)
from tests.support.discovery import DISCOVER, EXA_KEY, exa_api
from tests.support.fake_exa import FakeExaConfig

RESULTS = 20
RESULT_BYTES = 400 * 1000
FIELD_BYTES = RESULT_BYTES // 8  # title, summary, author, text and 8 highlights of half that
PAYLOAD = '"><img/onerror=alert(1)>'
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?")
TAG = re.compile(r"<[A-Za-z/!?]")


def hostile_result(n: int) -> dict[str, Any]:
    """One result as a compromised or careless provider might send it."""
    junk = "x" * FIELD_BYTES
    return {
        "id": str(n),
        "url": f"https://www.rival{n}.com/shop/{PAYLOAD}",
        "title": f"<b>Rival {n}</b><script>steal()</script>{junk}",
        "score": [0.9, float("inf"), "high", None][n % 4],
        "publishedDate": ["2024-02-29T10:00:00+02:00", "<script>", "last week", "2024-01-31"][
            n % 4
        ],
        "author": f'<a href="javascript:alert(1)">Eve</a>\u202e\x00{junk}',
        "image": "data:text/html,<script>alert(1)</script>",
        "favicon": ["javascript:alert(1)", "/favicon.ico", "https://cdn.rival.com/f.ico"][n % 3],
        "summary": (
            "<p>Sells shoes &amp; socks&lt;script&gt;steal()&lt;/script&gt;</p>"
            f"<style>p{{}}</style>{junk}"
        ),
        "highlights": [f"<i>{junk[: FIELD_BYTES // 2]}</i>"] * 8 + [123, None],
        "text": junk,
    }


SOCIAL = [
    {"id": "1", "url": f"https://twitter.com/acme{PAYLOAD}", "title": "<b>Acme</b> on X"},
    {"id": "2", "url": "javascript:alert(1)//facebook.com/acme", "title": "js"},
    {"id": "3", "url": f"https://www.linkedin.com/company/acme/{PAYLOAD}", "title": "<i>Li</i>"},
]


async def stored_results(database_url: str) -> list[str]:
    """Each discovery's `result` column as the database returns it, read with SQL."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(competitor_discoveries.c.result))).scalars()
            return [json.dumps(row) for row in rows]
    finally:
        await engine.dispose()


def assert_web_url_or_null(value: str | None) -> None:
    if value is None:
        return
    assert value.startswith(("https://", "http://")), value
    assert not set(value) & set("\"'<> \\"), value


def assert_plain_text(value: str | None, limit: int) -> None:
    if value is None:
        return
    assert len(value) <= limit
    assert not TAG.search(value), value[:200]
    assert "\x00" not in value
    assert "\u202e" not in value
    assert "steal()" not in value
    assert "p{}" not in value


async def test_a_hostile_providers_answer_is_stored_sanitised_and_bounded(
    settings: Settings, token_for: Callable[[str], str], database_url: str
) -> None:
    # given a provider answering 20 results of 400 KB each, full of markup and bad URLs
    assert len(json.dumps(hostile_result(0))) > RESULT_BYTES
    config = FakeExaConfig(
        api_key=EXA_KEY,
        similar_results=[hostile_result(n) for n in range(RESULTS)],
        social_results=SOCIAL,
    )
    async with exa_api(settings, token_for, config, provider_timeout_seconds=20) as (graphql, _, _):
        # when a discovery is made and then read back
        made = (
            await graphql.execute(
                DISCOVER, {"input": {"userUrl": "https://acme.com", "numResults": RESULTS}}
            )
        )["discoverCompetitors"]
        assert made["userErrors"] == []
        found = made["discovery"]
        read = (
            await graphql.execute(
                "query($id: ID!) { competitorDiscovery(id: $id) { competitors { url } } }",
                {"id": found["id"]},
            )
        )["competitorDiscovery"]

    # then every competitor is kept, each URL percent-encoded, and non-web URLs are null
    competitors = found["competitors"]
    assert len(competitors) == RESULTS
    assert [c["url"] for c in read["competitors"]] == [c["url"] for c in competitors]
    for n, competitor in enumerate(competitors):
        assert (
            competitor["url"] == f"https://www.rival{n}.com/shop/%22%3E%3Cimg/onerror=alert(1)%3E"
        )
        assert competitor["image"] is None
        assert competitor["favicon"] == [None, None, "https://cdn.rival.com/f.ico"][n % 3]
        for url in (competitor["url"], competitor["favicon"], competitor["image"]):
            assert_web_url_or_null(url)
        # and text is plain, without tags, scripts, controls or overrides, within its cap
        assert competitor["title"].startswith(f"Rival {n} xxx")
        assert competitor["summary"].startswith("Sells shoes & socks xxx")
        assert competitor["author"].startswith("Eve")
        assert_plain_text(competitor["title"], MAX_TITLE)
        assert_plain_text(competitor["summary"], MAX_SUMMARY)
        assert_plain_text(competitor["author"], MAX_AUTHOR)
        assert 0 < len(competitor["highlights"]) <= MAX_HIGHLIGHTS
        for highlight in competitor["highlights"]:
            assert_plain_text(highlight, MAX_HIGHLIGHT)
        # and the date is ISO or null, the score a number in [0, 1] or null
        assert (
            competitor["publishedDate"] == ["2024-02-29T08:00:00Z", None, None, "2024-01-31"][n % 4]
        )
        assert competitor["relevanceScore"] == [0.9, 1.0, None, None][n % 4]
    # and social URLs are profiles on their network with the payload encoded, or null
    accounts = found["socialMediaAccounts"]
    assert accounts["twitter"] == "https://twitter.com/acme%22%3E%3Cimg/onerror=alert(1)%3E"
    assert accounts["facebook"] is None
    assert accounts["linkedin"] == (
        "https://www.linkedin.com/company/acme/%22%3E%3Cimg/onerror=alert(1)%3E"
    )
    for citation in found["socialMediaCitations"]:
        assert_web_url_or_null(citation["url"])
        assert_plain_text(citation["title"], MAX_TITLE)
    assert {c["title"] for c in found["socialMediaCitations"]} == {"Acme on X", "Li"}

    # and the stored row, read with SQL, holds no markup and is bounded
    [raw] = await stored_results(database_url)
    assert len(raw) <= MAX_STORED_BYTES
    assert "<" not in raw
    assert "javascript:" not in raw
    assert "data:text" not in raw
