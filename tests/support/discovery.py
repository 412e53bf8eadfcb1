"""GraphQL documents and helpers the competitor discovery tests share."""

from __future__ import annotations

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
