"""GraphQL documents and helpers the competitor discovery tests share."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.support.graphql import GraphQLClient

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
