"""What operators see: Prometheus metrics, JSON logs with request ids, deprecation headers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from auth import DevIssuer
from tests.reliability.metrics_text import sample
from tests.support.discovery import discover
from tests.support.graphql import GraphQLClient
from tests.support.server_process import clean_environment, service

NAMED = "query MyProgress { onboardingProgress { currentStep } }"
MALFORMED = "query MyProgress { onboardingProgress { "
LEGACY = 'query Legacy { onboardingProgress(sessionId: "s-1") { currentStep } }'


async def test_metrics_count_operations_latency_and_errors(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given one operation that succeeds, the same one unauthenticated, and a malformed one
    await graphql.execute(NAMED)
    await graphql.as_user(None).post(NAMED)
    await graphql.post(MALFORMED)
    # when an operator scrapes /metrics
    response = await http.get("/metrics")
    # then it is Prometheus text with requests by operation and outcome
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    requests = "onboarding_graphql_requests_total"
    assert sample(text, requests, operation="MyProgress", outcome="success") == 1
    assert sample(text, requests, operation="MyProgress", outcome="error") == 1
    # (a document that does not parse names no operation)
    assert sample(text, requests, operation="anonymous", outcome="error") == 1
    # and a latency histogram by operation
    latency = "onboarding_graphql_request_duration_seconds_count"
    assert sample(text, latency, operation="MyProgress") == 2
    buckets = "onboarding_graphql_request_duration_seconds_bucket"
    assert sample(text, buckets, operation="MyProgress", le="+Inf") == 2
    # and errors by code
    errors = "onboarding_graphql_errors_total"
    assert sample(text, errors, code="UNAUTHENTICATED") == 1
    assert sample(text, errors, code="GRAPHQL_PARSE_FAILED") == 1


async def test_metrics_count_and_time_provider_calls(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given a discovery answered by the offline catalog provider
    assert (await discover(graphql))["userErrors"] == []
    # when /metrics is scraped / then the call is counted and timed by provider and outcome
    text = (await http.get("/metrics")).text
    assert sample(text, "onboarding_provider_calls_total", provider="catalog", outcome="ok") == 1
    duration = "onboarding_provider_call_duration_seconds_count"
    assert sample(text, duration, provider="catalog") == 1


async def test_deprecated_usage_is_counted_by_client_and_announced_in_headers(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given an old client that still sends sessionId, and a current one that does not
    legacy = await graphql.post(LEGACY, headers={"apollographql-client-name": "web-legacy"})
    current = await graphql.post(NAMED)
    # then the old client's response says, per RFC 9745, that it uses something deprecated
    assert legacy.status_code == 200
    assert legacy.headers["deprecation"] == "@1767225600"
    assert legacy.headers["link"] == '</SCHEMA_CHANGELOG.md>; rel="deprecation"'
    # and the current client's does not
    assert "deprecation" not in current.headers
    assert "link" not in current.headers
    # and the use is counted by schema coordinate and client name
    text = (await http.get("/metrics")).text
    coordinate = "Query.onboardingProgress(sessionId:)"
    usage = "onboarding_deprecated_usage_total"
    assert sample(text, usage, coordinate=coordinate, client="web-legacy") == 1
    assert sample(text, usage, coordinate=coordinate, client="unknown") is None


async def test_a_served_process_logs_json_lines_carrying_the_request_id(tmp_path: Path) -> None:
    # given the service as `onboarding-api serve` runs it
    environment = clean_environment({"ONBOARDING_DATA_DIR": str(tmp_path / "data")})
    token = DevIssuer.load_or_create(tmp_path / "data").mint("logged-user")
    with service(tmp_path, environment) as running:
        # when a client sends a request with its own request id
        async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as client:
            response = await client.post(
                "/graphql",
                json={"query": LEGACY},
                headers={"authorization": f"Bearer {token}", "x-request-id": "trace-me-42"},
            )
        assert response.headers["x-request-id"] == "trace-me-42"
        running.terminate()
        running.process.wait(timeout=30)
    # then every line on standard error is a JSON object with a request_id field
    lines = [json.loads(line) for line in running.stderr_lines()]
    assert lines
    assert all(isinstance(line, dict) and "request_id" in line for line in lines)
    # and the lines about that request carry its id
    ours = [line for line in lines if line["request_id"] == "trace-me-42"]
    assert {line["logger"] for line in ours} >= {"uvicorn.access", "app.metrics"}
