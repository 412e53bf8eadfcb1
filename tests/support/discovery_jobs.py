"""The app with discovery jobs on a fake Exa a test controls, and helpers its tests share."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from tests.support.discovery import DISCOVER_JOB, EXA_KEY, exa_api
from tests.support.fake_exa import FakeExa, FakeExaConfig
from tests.support.graphql import GraphQLClient

PER_MINUTE = 10
JOBS_METRIC = "onboarding_discovery_jobs_total"


def held_exa(**fields: Any) -> FakeExaConfig:
    """A fake Exa with the service's key that holds every answer until `fake.release()`."""
    return FakeExaConfig(api_key=EXA_KEY, gate=threading.Event(), **fields)


# The app with discovery jobs on a fake Exa that behaves as `config` says:
# `exa_jobs(settings, token_for, config, **overrides)`, as `exa_api`, with its key `EXA_KEY`,
# at most `PER_MINUTE` new discoveries a minute; `overrides` are further settings.
exa_jobs = partial(
    exa_api,
    provider_timeout_seconds=20,
    discoveries_per_minute=PER_MINUTE,
    discovery_poll_seconds=0.05,
)


def site(n: int) -> str:
    return f"https://shop-{n}.example.com"


async def start(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """`discoverCompetitors` with `fields` (and a default site); the payload."""
    result = await graphql.execute(DISCOVER_JOB, {"input": {"userUrl": site(0), **fields}})
    return dict(result["discoverCompetitors"])


def provider_attempts(fake: FakeExa) -> int:
    """Provider attempts the fake has seen: each discovery asks about its own site."""
    return len({call.body["url"] for call in fake.calls("/findSimilar")})
