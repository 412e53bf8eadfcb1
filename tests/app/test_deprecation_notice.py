"""The `Deprecation`, `Sunset` and `Link` headers, and the page the link points at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from app.settings import Settings
from tests.support.app import serving
from tests.support.graphql import GraphQLClient

LEGACY = 'query Legacy { onboardingProgress(sessionId: "s-1") { currentStep } }'
CURRENT = "query Current { onboardingProgress { currentStep } }"


# Headers are the HTTP edge's business: one database is enough.
pytestmark = pytest.mark.sqlite_only


async def test_the_link_of_a_deprecation_answers_with_the_changelog(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given a legacy request, told that what it uses is deprecated
    response = await graphql.post(LEGACY)
    assert response.headers["deprecation"] == "@1767225600"
    assert response.headers["link"] == '</SCHEMA_CHANGELOG.md>; rel="deprecation"'
    # and no removal date is configured, so no Sunset
    assert "sunset" not in response.headers
    # when the client follows the link
    changelog = await http.get("/SCHEMA_CHANGELOG.md")
    # then it reads the schema changelog, which names what is deprecated
    assert changelog.status_code == 200
    assert changelog.headers["content-type"] == "text/markdown; charset=utf-8"
    assert changelog.text.startswith("# Schema changelog")
    assert "sessionId" in changelog.text


async def test_a_configured_removal_date_is_announced_with_sunset(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given a removal date and a changelog hosted elsewhere
    configured = settings.model_copy(
        update={
            "deprecation_sunset": datetime(2027, 1, 1, tzinfo=UTC),
            "deprecation_link": "https://docs.example.com/api/changelog",
        }
    )
    async with serving(configured) as http:
        client = GraphQLClient(http, token_for, "user-a")
        # when a legacy client and a current one ask
        legacy = await client.post(LEGACY)
        current = await client.post(CURRENT)
    # then the legacy one learns when it goes (RFC 8594) and where that is explained
    assert legacy.headers["sunset"] == "Fri, 01 Jan 2027 00:00:00 GMT"
    link = "<https://docs.example.com/api/changelog>"
    assert legacy.headers["link"] == f'{link}; rel="deprecation", {link}; rel="sunset"'
    assert legacy.headers["deprecation"] == "@1767225600"
    # and the current one is told nothing
    assert {"sunset", "link", "deprecation"}.isdisjoint(current.headers)


def test_a_removal_date_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONBOARDING_DEPRECATION_SUNSET", "2027-01-01T00:00:00Z")
    assert Settings().deprecation_sunset == datetime(2027, 1, 1, tzinfo=UTC)
