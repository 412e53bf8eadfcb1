"""With the competitor provider and the identity provider both down, onboarding still works."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from pydantic import SecretStr

from app.settings import Settings
from tests.reliability.metrics_text import sample
from tests.support.app import serving
from tests.support.discovery import discover
from tests.support.fake_exa import FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient
from tests.support.jwks_server import JWKSServer, SigningKey
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, SKIP_STEP, STEP_DATA

EXA_KEY = "outage-test-key"


async def test_onboarding_survives_provider_and_issuer_outages(
    settings: Settings, signing_key: SigningKey, token_for: Any
) -> None:
    with ExitStack() as outages:
        issuer = outages.enter_context(JWKSServer([signing_key]))
        exa = outages.enter_context(run_fake_exa(FakeExaConfig(api_key=EXA_KEY)))
        settings = settings.model_copy(
            update={
                "jwks_url": issuer.url,
                "competitor_provider": "exa",
                "exa_api_key": SecretStr(EXA_KEY),
                "exa_base_url": exa.base_url,
                "provider_timeout_seconds": 2,
            }
        )
        async with serving(settings) as http:
            graphql = GraphQLClient(http, token_for, "user-a")
            # given a user who discovered competitors while everything was up
            first = await discover(graphql, userUrl="https://acme.com")
            assert first["userErrors"] == []
            await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})

            # when the competitor provider and the issuer's JWKS endpoint both go down
            outages.close()
            assert issuer.fetch_count >= 1

            # then a new discovery is a user error, not a failure
            refused = await discover(graphql, userUrl="https://acme.com", refresh=True)
            assert refused["discovery"] is None
            assert [e["code"] for e in refused["userErrors"]] == ["PROVIDER_UNAVAILABLE"]
            # and the user (with a token minted after the outage began) can still read
            # and write their onboarding: the issuer's keys are served from the cache
            for step in (2, 3):
                done = await graphql.execute(
                    COMPLETE_STEP, {"input": {"step": step, "data": STEP_DATA[step]}}
                )
                assert done["completeOnboardingStep"]["userErrors"] == []
            skipped = await graphql.execute(SKIP_STEP, {"input": {"step": 4}})
            assert skipped["skipOnboardingStep"]["userErrors"] == []
            progress = (await graphql.execute(PROGRESS))["onboardingProgress"]
            assert progress["currentStep"] == 5
            assert [s["status"] for s in progress["steps"][:4]] == ["COMPLETED"] * 3 + ["SKIPPED"]
            # and the provider's failure is counted, apart from its success
            exposition = (await http.get("/metrics")).text
            calls = "onboarding_provider_calls_total"
            assert sample(exposition, calls, provider="exa", outcome="ok") == 1
            assert sample(exposition, calls, provider="exa", outcome="PROVIDER_UNAVAILABLE") == 1
