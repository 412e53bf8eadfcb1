"""A 500 raised outside GraphQL carries X-Request-ID, a JSON GraphQL body and a log line;
so does every refusal Starlette makes itself (404, 405).

Nothing in the service raises outside GraphQL on purpose, so the failure here
is a route of the test's own, added to the app `create_app` builds: the
middleware stack around it is the service's. (tests/reliability/
test_failures_outside_graphql.py shows the real failures: a shutdown cutting
a request short, a client leaving mid-body.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.support.app import http_client_for, running_app

NEW = "application/graphql-response+json"
LEGACY = "application/json"
LEAKS = re.compile(r"Traceback|File \"|\.py\b|RuntimeError|secret detail", re.IGNORECASE)


pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def failing(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service's app with one more route, which always raises."""
    async with running_app(settings) as application:
        add_failing_route(application)
        async with http_client_for(application) as client:
            yield client


def add_failing_route(application: FastAPI) -> None:
    @application.get("/test-only/fails")
    async def fails() -> None:
        raise RuntimeError("secret detail of a bug")


@pytest.mark.parametrize(("accept", "media_type"), [(NEW, NEW), (LEGACY, LEGACY), (None, LEGACY)])
async def test_an_exception_outside_graphql_is_a_json_500_with_its_request_id(
    failing: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    accept: str | None,
    media_type: str,
) -> None:
    # when a route raises
    with caplog.at_level(logging.ERROR):
        response = await failing.get(
            "/test-only/fails", headers={"accept": accept} if accept else {}
        )
    # then the client gets a GraphQL error body, in the media type it accepts, with the id
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }
    assert not LEAKS.search(response.text)
    # and the server logged the cause, with its traceback, under that id
    [logged] = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged.exc_info is not None
    assert "/test-only/fails" in logged.getMessage()


async def test_the_request_id_the_client_offered_is_the_one_answered_and_logged(
    failing: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await failing.get("/test-only/fails", headers={"x-request-id": "support-42"})
    assert response.headers["x-request-id"] == "support-42"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "support-42"
    assert [getattr(r, "request_id", None) for r in caplog.records] == ["support-42"]


@pytest.mark.parametrize(("accept", "media_type"), [(NEW, NEW), (None, LEGACY)])
async def test_an_unknown_route_or_a_wrong_method_answers_a_graphql_error_body(
    http: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    headers = {"accept": accept} if accept else {}
    # when a client asks for a route that does not exist, or uses a method a route lacks
    missing = await http.get("/no-such-route", headers=headers)
    wrong_method = await http.put("/graphql", content=b"{}", headers=headers)
    # then both are GraphQL error bodies in the accepted media type, with request ids
    for response, status, code in (
        (missing, 404, "NOT_FOUND"),
        (wrong_method, 405, "METHOD_NOT_ALLOWED"),
    ):
        assert response.status_code == status
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.json()["errors"][0]["extensions"] == {"code": code}
        assert response.headers["x-request-id"]
    # and the 405 names every method /graphql takes, not only the first route's
    assert wrong_method.headers["allow"] == "GET, POST"
