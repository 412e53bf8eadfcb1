"""What clients name cannot grow /metrics, and a scrape leaves the loop alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from app.runtime import Runtime
from app.settings import Settings
from tests.reliability.metrics_text import sample
from tests.support.app import serving
from tests.support.graphql import GraphQLClient

NAMES = 2_000
# The defaults: ONBOARDING_METRICS_MAX_OPERATION_NAMES, ONBOARDING_METRICS_MAX_CLIENT_NAMES.
OPERATION_NAMES_KEPT = 100
CLIENT_NAMES_KEPT = 20
# What 2,000 distinct names leave /metrics at (it was 2.9 MB): the series of 100
# operations (a counter and a 12-bucket histogram each) and of 20 clients.
MAX_SERIES = 2_000
MAX_EXPOSITION_BYTES = 256 * 1024
USAGE = "onboarding_deprecated_usage_total"
COORDINATE = "Query.onboardingProgress(sessionId:)"


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


def _series(exposition: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(exposition) for s in family.samples]


def _label_values(exposition: str, name: str, label: str) -> set[str]:
    return {s.labels[label] for s in _series(exposition) if s.name == name}


async def test_two_thousand_operation_and_client_names_leave_metrics_bounded(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given 2,000 authenticated requests, each with its own operation and client
    # name and the deprecated sessionId (the worst case: counted usage)
    for number in range(NAMES):
        response = await graphql.post(
            f'query Op{number:04d} {{ onboardingProgress(sessionId: "s") {{ currentStep }} }}',
            headers={"apollographql-client-name": f"client-{number:04d}"},
        )
        assert response.status_code == 200
    # when an operator scrapes
    exposition = (await http.get("/metrics")).text
    # then the first names got labels, every later one is `other`, and nothing is lost
    requests = "onboarding_graphql_requests_total"
    operations = _label_values(exposition, requests, "operation")
    assert len(operations) == OPERATION_NAMES_KEPT + 1
    assert "Op0000" in operations
    assert "Op1999" not in operations
    assert sample(exposition, requests, operation="other") == NAMES - OPERATION_NAMES_KEPT
    clients = _label_values(exposition, USAGE, "client")
    assert len(clients) == CLIENT_NAMES_KEPT + 1
    assert sample(exposition, USAGE, client="other") == NAMES - CLIENT_NAMES_KEPT
    # and the exposition stays small
    series = _series(exposition)
    assert len(series) <= MAX_SERIES, len(series)
    assert len(exposition.encode()) <= MAX_EXPOSITION_BYTES, len(exposition.encode())


async def test_anonymous_operation_names_take_no_more_than_the_bound(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given 2,000 anonymous `query OpNNNN { __typename }`
    anonymous = graphql.as_user(None)
    for number in range(NAMES):
        assert (await anonymous.post(f"query Op{number:04d} {{ __typename }}")).status_code == 200
    # when scraped / then at most the bounded set of operation labels exists
    exposition = (await http.get("/metrics")).text
    operations = _label_values(exposition, "onboarding_graphql_requests_total", "operation")
    assert len(operations) == OPERATION_NAMES_KEPT + 1
    assert len(exposition.encode()) <= MAX_EXPOSITION_BYTES


async def test_allowed_names_keep_their_label_whatever_came_first(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given an allow-list naming the one operation an operator watches, and room for two others
    configured = settings.model_copy(
        update={"metrics_operation_names": ["Checkout"], "metrics_max_operation_names": 2}
    )
    async with serving(configured) as http:
        client = GraphQLClient(http, token_for, "user-a")
        # when three other names come first, then the watched one
        for name in ("First", "Second", "Third", "Checkout"):
            await client.post(f"query {name} {{ __typename }}")
        exposition = (await http.get("/metrics")).text
    # then the first two and the allowed one have labels, and the third is `other`
    operations = _label_values(exposition, "onboarding_graphql_requests_total", "operation")
    assert operations == {"First", "Second", "Checkout", "other"}


async def test_deprecated_usage_is_counted_only_for_verified_users(
    graphql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    # given anonymous requests naming 50 clients and using the deprecated argument
    anonymous = graphql.as_user(None)
    for number in range(50):
        response = await anonymous.post(
            '{ onboardingProgress(sessionId: "s") { currentStep } }',
            headers={"apollographql-client-name": f"bot-{number}"},
        )
        # (they are still told what they use is deprecated)
        assert response.headers["deprecation"]
    # and one verified user's
    await graphql.post(
        '{ onboardingProgress(sessionId: "s") { currentStep } }',
        headers={"apollographql-client-name": "web-legacy"},
    )
    # when scraped / then only the verified use was counted
    exposition = (await http.get("/metrics")).text
    assert _label_values(exposition, USAGE, "client") == {"web-legacy"}
    assert sample(exposition, USAGE, coordinate=COORDINATE, client="web-legacy") == 1


class _ThreadOfCollection(Collector):
    """Notes the thread each scrape collects on; yields no metric."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def collect(self) -> Iterable[Metric]:
        self.threads.append(threading.current_thread())
        return []


async def test_a_scrape_is_written_off_the_event_loop(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    # given a collector that notes which thread it runs on
    runtime: Runtime = app.state.runtime
    recorder = _ThreadOfCollection()
    runtime.metrics.registry.register(recorder)
    # when /metrics is scraped
    assert (await http.get("/metrics")).status_code == 200
    # then the exposition was collected on another thread than the event loop's
    assert len(recorder.threads) == 1
    assert recorder.threads[0] is not threading.current_thread()
