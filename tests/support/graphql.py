"""A tiny GraphQL-over-HTTP client for tests, speaking to the app like a frontend would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    token_for: Callable[[str], str]
    user: str | None

    def as_user(self, user: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, self.token_for, user)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post(
            "/graphql",
            json=body,
            headers={"content-type": "application/json", **self.signed(headers)},
        )

    def signed(self, headers: dict[str, str] | None = None) -> dict[str, str]:
        """The user's bearer token (if signed in), then `headers`."""
        sent = {}
        if self.user is not None:
            sent["authorization"] = f"Bearer {self.token_for(self.user)}"
        sent.update(headers or {})
        return sent

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a request that must succeed without GraphQL errors."""
        response = await self.post(query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


async def execute_over_http(
    client: httpx.AsyncClient,
    base_url: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `data` of a request to a served process that must succeed without GraphQL errors."""
    response = await client.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data
