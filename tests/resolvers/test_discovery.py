"""The discovery use case with providers that misbehave in ways the real ones should not."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from db.engine import create_engine
from discovery import (
    CompetitorProvider,
    DiscoveryRequest,
    DiscoveryResult,
    ProviderMisconfiguredError,
)
from resolvers.discovery import discover_competitors
from resolvers.discovery_input import DiscoveryForm
from resolvers.secrets import SecretBox
from resolvers.services import DiscoveryPolicy, Services

FORM = DiscoveryForm(
    user_url="https://acme.com",
    industry_context=None,
    num_results=5,
    website_analysis_data=None,
)


class Broken:
    name = "broken"

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        raise RuntimeError("secret internals: /srv/app.py line 3")


class Hangs:
    name = "hangs"

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")


class Misconfigured:
    name = "misconfigured"

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        raise ProviderMisconfiguredError("The provider refused our API key.")


@pytest.fixture
async def services_with(database_url: str) -> AsyncIterator[Callable[..., Services]]:
    engine = create_engine(database_url)

    def make(provider: CompetitorProvider, timeout: float = 5.0) -> Services:
        policy = DiscoveryPolicy(provider=provider, timeout_seconds=timeout)
        return Services(
            engine=engine, secret_box=SecretBox([SecretBox.generate_key()]), discovery=policy
        )

    yield make
    await engine.dispose()


async def test_an_unexpected_provider_error_is_unavailable_and_logged(
    services_with: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    # when the provider raises something it should not
    with caplog.at_level(logging.ERROR, logger="resolvers.discovery_provider"):
        outcome = await discover_competitors(services_with(Broken()), "user-a", FORM)
    # then the client gets PROVIDER_UNAVAILABLE, without the details, which are logged
    [problem] = outcome.problems
    assert problem.code == "PROVIDER_UNAVAILABLE"
    assert "secret" not in problem.message
    assert outcome.discovery is None
    assert any(record.exc_info for record in caplog.records)


async def test_a_provider_without_its_own_timeout_is_cut_off(
    services_with: Callable[..., Services],
) -> None:
    started = time.monotonic()
    outcome = await discover_competitors(services_with(Hangs(), timeout=0.2), "user-a", FORM)
    assert time.monotonic() - started < 1.5
    assert [problem.code for problem in outcome.problems] == ["PROVIDER_UNAVAILABLE"]


async def test_a_provider_error_reaches_the_client_with_its_code(
    services_with: Callable[..., Services],
) -> None:
    outcome = await discover_competitors(services_with(Misconfigured()), "user-a", FORM)
    assert [problem.code for problem in outcome.problems] == ["PROVIDER_MISCONFIGURED"]
