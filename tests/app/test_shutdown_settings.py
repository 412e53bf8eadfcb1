"""The shutdown grace holds the provider's budget plus a margin, or the service will not start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_a_grace_shorter_than_the_provider_budget_plus_the_margin_is_refused() -> None:
    # when the grace (25 s) is shorter than the provider's budget (30 s) plus the margin (5 s)
    with pytest.raises(ValidationError) as refused:
        Settings(provider_timeout_seconds=30, shutdown_grace_seconds=25)
    # then the settings are refused, naming the three settings involved
    message = str(refused.value)
    for name in (
        "ONBOARDING_SHUTDOWN_GRACE_SECONDS",
        "ONBOARDING_PROVIDER_TIMEOUT_SECONDS",
        "ONBOARDING_SHUTDOWN_MARGIN_SECONDS",
    ):
        assert name in message


def test_the_defaults_fit_and_a_shorter_budget_allows_a_shorter_grace() -> None:
    defaults = Settings()
    assert defaults.shutdown_grace_seconds >= (
        defaults.provider_timeout_seconds + defaults.shutdown_margin_seconds
    )
    short = Settings(
        provider_timeout_seconds=20, shutdown_margin_seconds=5, shutdown_grace_seconds=25
    )
    assert short.shutdown_grace_seconds == 25
