"""The app with discovery jobs on a fake Exa a test controls, and helpers its tests share."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
from pydantic import SecretStr

from app.settings import Settings
from tests.support.app import serving
from tests.support.discovery import DISCOVER_JOB
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient

KEY = "jobs-exa-key"
PER_MINUTE = 10
JOBS_METRIC = "onboarding_discovery_jobs_total"


class JobsApp(NamedTuple):
    """The app's GraphQL client (signed in as "user-a"), its fake Exa, its HTTP client."""

    graphql: GraphQLClient
    fake: FakeExa
    http: httpx.AsyncClient


def held_exa(**fields: Any) -> FakeExaConfig:
    """A fake Exa with the service's key that holds every answer until `fake.release()`."""
    return FakeExaConfig(api_key=KEY, gate=threading.Event(), **fields)


@asynccontextmanager
async def exa_jobs(
    settings: Settings,
    token_for: Callable[[str], str],
    config: FakeExaConfig,
    **overrides: Any,
) -> AsyncIterator[JobsApp]:
    """The app with discovery jobs on a fake Exa that behaves as `config` says.

    Its key is `KEY`; at most `PER_MINUTE` new discoveries a minute; `overrides`
    are further settings.
    """
    with run_fake_exa(config) as fake:
        configured = settings.model_copy(
            update={
                "exa_api_key": SecretStr(KEY),
                "exa_base_url": fake.base_url,
                "competitor_provider": "exa",
                "provider_timeout_seconds": 20,
                "discoveries_per_minute": PER_MINUTE,
                "discovery_poll_seconds": 0.05,
                **overrides,
            }
        )
        async with serving(configured) as http:
            yield JobsApp(GraphQLClient(http, token_for, "user-a"), fake, http)
        if config.gate is not None:
            config.gate.set()  # let the fake's held requests go before it stops


def site(n: int) -> str:
    return f"https://shop-{n}.example.com"


async def start(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """`discoverCompetitors` with `fields` (and a default site); the payload."""
    result = await graphql.execute(DISCOVER_JOB, {"input": {"userUrl": site(0), **fields}})
    return dict(result["discoverCompetitors"])


def provider_attempts(fake: FakeExa) -> int:
    """Provider attempts the fake has seen: each discovery asks about its own site."""
    return len({call.body["url"] for call in fake.calls("/findSimilar")})


async def until(condition: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait for `condition`; fail the test if it is not true within `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "the condition never came true"
        await asyncio.sleep(0.02)
