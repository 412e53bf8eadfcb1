"""An unexpected failure reaches the client masked; deliberate errors keep their codes."""

from __future__ import annotations

import logging

import pytest

from tests.support.databases import drop_steps_table
from tests.support.graphql import GraphQLClient

PROGRESS = "{ onboardingProgress { currentStep } }"


async def test_an_unexpected_error_is_masked_and_logged(
    graphql: GraphQLClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a database that fails every query (its table is gone)
    await drop_steps_table(database_url)
    # when the viewer reads their progress
    with caplog.at_level(logging.ERROR):
        response = await graphql.post(PROGRESS, headers={"x-request-id": "support-ticket-42"})
    # then the client gets a masked error: no SQL, no traceback, no file path
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["onboardingProgress"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "support-ticket-42"},
        }
    ]
    assert response.headers["x-request-id"] == "support-ticket-42"
    for leak in ("onboarding_steps", "Traceback", ".py", "SELECT"):
        assert leak not in response.text
    # and the cause is logged on the server, under the same request id
    [record] = [record for record in caplog.records if "onboarding_steps" in record.exc_text]
    assert record.request_id == "support-ticket-42"


async def test_deliberate_errors_keep_their_codes(graphql: GraphQLClient) -> None:
    anonymous = await graphql.as_user(None).post(PROGRESS)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert anonymous.json()["errors"][0]["message"].startswith("Authentication required")
