"""The Exa provider against a real local HTTP server speaking Exa's JSON."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.outbound_http import OutboundSession
from discovery import (
    DiscoveryRequest,
    ExaProvider,
    ProviderMisconfiguredError,
    ProviderUnavailableError,
    normalise_url,
)
from discovery.exa import parse_retry_after
from tests.support.fake_exa import FakeExaConfig, run_fake_exa

KEY = "test-key"


@pytest.fixture
async def session() -> AsyncIterator[OutboundSession]:
    outbound = OutboundSession(connections=10)
    yield outbound
    await outbound.close()


def acme_request(num_results: int = 25) -> DiscoveryRequest:
    return DiscoveryRequest(
        site=normalise_url("https://www.acme.com/shop"),
        industry_context="e-commerce",
        num_results=num_results,
        website_analysis={"target_audience": "online shoppers"},
    )


def provider(session: OutboundSession, base_url: str, **kwargs: float) -> ExaProvider:
    options: dict[str, float] = {"timeout": 5.0, "backoff_base": 0.01, **kwargs}
    return ExaProvider(
        KEY,
        session=session,
        base_url=base_url,
        timeout=options["timeout"],
        max_retries=int(options.get("max_retries", 3)),
        backoff_base=options["backoff_base"],
    )


async def test_request_carries_key_exclusion_and_contents(session: OutboundSession) -> None:
    # given a fake Exa
    with run_fake_exa(FakeExaConfig(api_key=KEY)) as fake:
        # when competitors are discovered for acme.com
        await provider(session, fake.base_url).discover(acme_request())
        # then the first findSimilar call carries the key, the exclusion and contents
        first = fake.calls("/findSimilar")[0]
    assert first.headers["x-api-key"] == KEY
    assert first.body["url"] == "https://www.acme.com/shop"
    assert first.body["numResults"] == 25
    assert "acme.com" in first.body["excludeDomains"]
    assert first.body["excludeSourceDomain"] is True
    contents = first.body["contents"]
    assert contents["text"]["maxCharacters"] > 0
    assert "query" in contents["highlights"]
    assert "query" in contents["summary"]


async def test_asking_for_25_gives_25_without_own_domain(session: OutboundSession) -> None:
    # given a fake whose pages always include acme.com and blog.acme.com
    with run_fake_exa(FakeExaConfig(api_key=KEY)) as fake:
        # when 25 competitors are requested
        result = await provider(session, fake.base_url).discover(acme_request(25))
        calls = fake.calls("/findSimilar")
    # then 25 distinct competitors come back, none on the user's site
    assert len(result.competitors) == 25
    assert result.shortfall == 0
    domains = [c.domain for c in result.competitors]
    assert len(set(domains)) == 25
    assert all("acme.com" not in c.url for c in result.competitors)
    # and the follow-up call excluded what the first already returned
    assert len(calls) == 2
    assert calls[1].body["numResults"] == 4  # 2 missing + 2 dropped last time
    assert set(domains[:23]) <= set(calls[1].body["excludeDomains"])
    first = result.competitors[0]
    assert first.summary
    assert first.highlights
    assert first.favicon
    assert first.image
    assert first.relevance_score is not None
    assert 0.0 <= first.relevance_score <= 1.0


async def test_100_results_are_honoured(session: OutboundSession) -> None:
    # given a fake with plenty of competitors
    with run_fake_exa(FakeExaConfig(api_key=KEY)) as fake:
        # when the maximum is requested
        result = await provider(session, fake.base_url).discover(acme_request(100))
        first = fake.calls("/findSimilar")[0]
    # then all 100 are asked for in one call and returned
    assert first.body["numResults"] == 100
    assert len(result.competitors) == 100


async def test_shortfall_is_reported_when_provider_runs_dry(session: OutboundSession) -> None:
    # given a fake that knows only 10 competitors
    with run_fake_exa(FakeExaConfig(api_key=KEY, competitor_pool=10)) as fake:
        # when 25 are requested
        result = await provider(session, fake.base_url).discover(acme_request(25))
    # then 10 come back and the shortfall says 15 are missing
    assert len(result.competitors) == 10
    assert result.shortfall == 15


async def test_two_429s_then_success(session: OutboundSession) -> None:
    # given a fake that throttles twice with Retry-After: 1
    with run_fake_exa(FakeExaConfig(api_key=KEY, leading_429s=2, retry_after="1")) as fake:
        started = time.monotonic()
        # when discovering
        result = await provider(session, fake.base_url).discover(acme_request(5))
        elapsed = time.monotonic() - started
    # then it succeeds, every throttled call having waited out its Retry-After
    # (competitor and social calls run together, so each met one of the 429s)
    assert len(result.competitors) == 5
    assert elapsed >= 1.0


async def test_persistent_500s_are_unavailable(session: OutboundSession) -> None:
    # given a fake that always fails
    with run_fake_exa(FakeExaConfig(api_key=KEY, always_500=True)) as fake:
        # when discovering, then the provider is unavailable after its retries
        with pytest.raises(ProviderUnavailableError) as caught:
            await provider(session, fake.base_url).discover(acme_request())
        attempts = len(fake.calls("/findSimilar"))
    assert caught.value.code == "PROVIDER_UNAVAILABLE"
    assert attempts == 4
    assert "Traceback" not in caught.value.message


async def test_slow_provider_times_out_within_budget(session: OutboundSession) -> None:
    # given a fake slower than the 1 s total timeout
    with run_fake_exa(FakeExaConfig(api_key=KEY, delay=5.0)) as fake:
        started = time.monotonic()
        # when discovering, then it is unavailable within the timeout plus a second
        with pytest.raises(ProviderUnavailableError):
            await provider(session, fake.base_url, timeout=1.0).discover(acme_request())
        elapsed = time.monotonic() - started
    assert elapsed < 2.0


async def test_retry_after_beyond_budget_fails_fast(session: OutboundSession) -> None:
    # given a fake that asks both concurrent calls to come back in an hour
    with run_fake_exa(FakeExaConfig(api_key=KEY, leading_429s=2, retry_after="3600")) as fake:
        started = time.monotonic()
        # when discovering with a 2 s budget, then it gives up without waiting
        with pytest.raises(ProviderUnavailableError):
            await provider(session, fake.base_url, timeout=2.0).discover(acme_request())
    assert time.monotonic() - started < 1.0


async def test_bad_key_is_misconfigured(session: OutboundSession) -> None:
    # given a fake that expects another key
    with run_fake_exa(FakeExaConfig(api_key="the-real-key")) as fake:
        bad = provider(session, fake.base_url)
        # when discovering with ours, then the provider is misconfigured
        with pytest.raises(ProviderMisconfiguredError) as caught:
            await bad.discover(acme_request())
    assert caught.value.code == "PROVIDER_MISCONFIGURED"
    assert KEY not in caught.value.message
    assert KEY not in repr(bad)


async def test_messy_social_answers_become_urls_or_none(session: OutboundSession) -> None:
    # given a fake whose social search returns "", true, 1, relative paths, bare hosts
    with run_fake_exa(FakeExaConfig(api_key=KEY)) as fake:
        # when discovering
        result = await provider(session, fake.base_url).discover(acme_request(3))
        search = fake.calls("/search")[0]
    # then each account is an https URL on its network or None
    accounts = result.social_media_accounts
    assert accounts.twitter == "https://twitter.com/acme"
    assert accounts.linkedin == "https://www.linkedin.com/company/acme"
    assert accounts.instagram == "https://instagram.com/acme"
    assert accounts.facebook is None
    assert accounts.youtube is None
    assert accounts.tiktok is None
    assert {c.url for c in result.social_media_citations} == {
        "https://twitter.com/acme",
        "https://www.linkedin.com/company/acme",
        "https://instagram.com/acme",
    }
    # and the social search was restricted to the networks
    assert "linkedin.com" in search.body["includeDomains"]
    assert search.headers["x-api-key"] == KEY


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("-1", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ],
)
def test_retry_after_header_parsing(header: str | None, expected: float | None) -> None:
    # given a fixed clock, when the header is parsed, then seconds come out
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected
