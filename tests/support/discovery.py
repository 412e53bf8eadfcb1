"""GraphQL documents and helpers the competitor discovery tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
from pydantic import SecretStr

from app.settings import Settings
from tests.support.app import serving
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient

EXA_KEY = "test-exa-key"

DISCOVERY_FIELDS = """
    id userUrl domain industryContext requestedResults shortfall provider cached createdAt
    competitors {
      url domain title summary highlights publishedDate author favicon image relevanceScore
    }
    socialMediaAccounts { facebook twitter instagram linkedin youtube tiktok }
    socialMediaCitations { url title }
    researchSummary { totalCompetitors highThreatCount competitiveLandscape keyFindings }
"""

DISCOVER = f"""
mutation Discover($input: DiscoverCompetitorsInput!) {{
  discoverCompetitors(input: $input) {{
    sessionId
    discovery {{ {DISCOVERY_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

DISCOVERY = f"""
query Discovery($id: ID!) {{
  competitorDiscovery(id: $id) {{ {DISCOVERY_FIELDS} }}
}}
"""

DISCOVERIES = """
query Discoveries($first: Int, $after: String) {
  competitorDiscoveries(first: $first, after: $after) {
    edges { cursor node { id userUrl createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def discover(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """The `discoverCompetitors` payload for an input of `fields` (userUrl has a default)."""
    payload = {"userUrl": "https://www.my-little-shop.com", **fields}
    result = await graphql.execute(DISCOVER, {"input": payload})
    return dict(result["discoverCompetitors"])


async def discovered(graphql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """The discovery a request that must succeed returns."""
    payload = await discover(graphql, **fields)
    assert payload["userErrors"] == [], payload["userErrors"]
    return dict(payload["discovery"])


class ExaApp(NamedTuple):
    """The app's GraphQL client (signed in as "user-a"), its fake Exa, its HTTP client."""

    graphql: GraphQLClient
    fake: FakeExa
    http: httpx.AsyncClient


def on_fake_exa(settings: Settings, fake: FakeExa, **overrides: Any) -> Settings:
    """`settings` with Exa as the provider, at `fake`, with the key `EXA_KEY`, and `overrides`."""
    return settings.model_copy(
        update={
            "exa_api_key": SecretStr(EXA_KEY),
            "exa_base_url": fake.base_url,
            "competitor_provider": "exa",
            **overrides,
        }
    )


@asynccontextmanager
async def exa_api(
    settings: Settings,
    token_for: Callable[[str], str],
    config: FakeExaConfig,
    **overrides: Any,
) -> AsyncIterator[ExaApp]:
    """The app configured for Exa (key `EXA_KEY`) at a fake that behaves as `config` says.

    The provider's budget is 1 s; `overrides` are further settings.
    """
    with run_fake_exa(config) as fake:
        configured = on_fake_exa(settings, fake, **{"provider_timeout_seconds": 1, **overrides})
        async with serving(configured) as http:
            yield ExaApp(GraphQLClient(http, token_for, "user-a"), fake, http)
        if fake.holding:
            fake.release()  # let the fake's held requests go before it stops


JOB_FIELDS = "id status failure { field message code } cached competitors { domain }"

DISCOVER_JOB = f"""
mutation DiscoverJob($input: DiscoverCompetitorsInput!) {{
  discoverCompetitors(input: $input) {{
    discovery {{ {JOB_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

DISCOVERY_JOB = f"""
query DiscoveryJob($id: ID!) {{
  competitorDiscovery(id: $id) {{ {JOB_FIELDS} }}
}}
"""

ACTIVE = ("PENDING", "RUNNING")


async def final_discovery(
    graphql: GraphQLClient, discovery_id: str, *, within: float = 60.0
) -> dict[str, Any]:
    """The discovery once its job is COMPLETED or FAILED; fails the test after `within` s."""
    deadline = time.monotonic() + within
    while True:
        found = (await graphql.execute(DISCOVERY_JOB, {"id": discovery_id}))["competitorDiscovery"]
        if found["status"] not in ACTIVE:
            return dict(found)
        assert time.monotonic() < deadline, f"still {found['status']} after {within} s"
        await asyncio.sleep(0.05)
