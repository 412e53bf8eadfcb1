"""Prometheus metrics the service exports at /metrics.

Metric                                          labels
onboarding_graphql_requests_total               operation, outcome (success | error)
onboarding_graphql_request_duration_seconds     operation (histogram)
onboarding_graphql_errors_total                 code
onboarding_provider_calls_total                 provider, outcome (ok | error code | timeout)
onboarding_provider_call_duration_seconds       provider (histogram)
onboarding_deprecated_usage_total               coordinate, client
onboarding_discovery_jobs_total                 event (started | joined | completed | failed |
                                                taken_over | released)
onboarding_subscriptions_open                   (gauge) GraphQL subscriptions being served
onboarding_websocket_connections_open           (gauge) WebSocket connections open on /graphql

`operation` and `client` are whatever clients send, so they become labels only
from bounded sets (`BoundedLabels`); every other label's values are ours.
Under `serve` every worker writes its samples to prometheus_client's
multiprocess directory and a scrape of any worker adds up all of them
(`app/multiprocess_metrics.py`); an app built in a test counts alone. Gauges
are `livesum`: the sum over the workers alive, a dead worker's share gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from app.multiprocess_metrics import forget_dead_workers, leave
from discovery import CompetitorProvider, DiscoveryRequest, DiscoveryResult, ProviderError

logger = logging.getLogger(__name__)

OTHER = "other"
# Labels the service itself gives: no operation name, an odd one, no client name.
_OWN_LABELS = ("anonymous", "invalid_name", "unknown", OTHER)

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PROVIDER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class BoundedLabels:
    """Label values from a bounded set: the allowed ones, then the first `capacity`
    other values this process sees; every later newcomer is `other`.

    A hostile client sending 2,000 operation names adds at most `capacity` series
    per metric and process; the allow-list keeps the names that matter labelled
    whatever came first.
    """

    def __init__(self, allowed: Iterable[str] = (), capacity: int = 100) -> None:
        self.capacity = capacity
        self._allowed = frozenset((*allowed, *_OWN_LABELS))
        self._admitted: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._allowed or value in self._admitted:
            return value
        if len(self._admitted) < self.capacity:
            self._admitted.add(value)
            return value
        return OTHER


class TimedCalls:
    """Calls of one kind, counted by subject and outcome (`<stem>s`) and timed by
    subject (`<stem>_duration_seconds`): GraphQL operations, provider calls."""

    def __init__(
        self,
        registry: CollectorRegistry,
        stem: str,
        subject: str,
        buckets: tuple[float, ...],
        *,
        counted: str,
        timed: str,
    ) -> None:
        self.calls = Counter(f"{stem}s", counted, [subject, "outcome"], registry=registry)
        self.durations = Histogram(
            f"{stem}_duration_seconds", timed, [subject], buckets=buckets, registry=registry
        )
        # The labelled series of a subject and outcome, looked up once: `labels()` takes a
        # lock and builds a key on every call. (The label sets are bounded, so is this.)
        self._series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def record(self, subject: str, outcome: str, seconds: float | None) -> None:
        """One call; `seconds` None counts it untimed."""
        series = self._series.get((subject, outcome))
        if series is None:
            series = (self.calls.labels(subject, outcome), self.durations.labels(subject))
            self._series[(subject, outcome)] = series
        calls, durations = series
        calls.inc()
        if seconds is not None:
            durations.observe(seconds)


class Metrics:
    """One registry per app, so each app built in a process (tests do) counts alone.

    With a `multiprocess_directory` (as under `serve`), samples go to that
    directory's files instead and the exposition adds up every worker's.
    """

    def __init__(
        self,
        *,
        operations: BoundedLabels | None = None,
        clients: BoundedLabels | None = None,
        multiprocess_directory: Path | None = None,
    ) -> None:
        self.operations = operations or BoundedLabels()
        self.clients = clients or BoundedLabels(capacity=20)
        self.multiprocess_directory = multiprocess_directory
        self.registry = CollectorRegistry()
        if multiprocess_directory is None:
            self._exposed = self.registry
        else:
            self._exposed = CollectorRegistry()
            MultiProcessCollector(self._exposed, path=str(multiprocess_directory))  # type: ignore[no-untyped-call]
            # A worker killed outright could not say so; the next one to start does.
            forget_dead_workers(multiprocess_directory)
        self.graphql_requests = TimedCalls(
            self.registry,
            "onboarding_graphql_request",
            "operation",
            _REQUEST_BUCKETS,
            counted="GraphQL operations executed, by operation name and outcome.",
            timed=(
                "Time to execute a GraphQL operation (parse, validate, execute), by operation name."
            ),
        )
        self.errors = Counter(
            "onboarding_graphql_errors",
            "GraphQL errors answered, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.provider_calls = TimedCalls(
            self.registry,
            "onboarding_provider_call",
            "provider",
            _PROVIDER_BUCKETS,
            counted="Calls to the competitor search provider, by provider and outcome.",
            timed="Time a competitor search provider took to answer, by provider.",
        )
        self.deprecated_usage = Counter(
            "onboarding_deprecated_usage",
            "Uses of deprecated fields, arguments and input fields, by schema coordinate"
            " and client name.",
            ["coordinate", "client"],
            registry=self.registry,
        )

        self.discovery_jobs = Counter(
            "onboarding_discovery_jobs",
            "Competitor discovery jobs: started (one provider reservation each), joined by an"
            " identical request, completed, failed, taken over after their process died, and"
            " released at shutdown for another process.",
            ["event"],
            registry=self.registry,
        )

        self.subscriptions_open = Gauge(
            "onboarding_subscriptions_open",
            "GraphQL subscriptions being served over WebSocket.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.websocket_connections_open = Gauge(
            "onboarding_websocket_connections_open",
            "WebSocket connections open on /graphql, before and after `connection_init`.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def record_discovery_job(self, event: str) -> None:
        """One thing that happened to a discovery job (`resolvers.services.JobEvent`)."""
        self.discovery_jobs.labels(event=event).inc()

    def close(self) -> None:
        """This app stops: with several workers, say this one is gone."""
        if self.multiprocess_directory is not None:
            leave(self.multiprocess_directory)

    def exposition(self) -> bytes:
        """The Prometheus text of every sample; blocking work, so run it off the event loop."""
        return generate_latest(self._exposed)

    def record_operation(
        self, operation: str, seconds: float | None, error_codes: list[str]
    ) -> None:
        """One executed GraphQL operation and the codes of the errors it answered.

        `seconds` is None for a subscription: its lifetime is no latency.
        """
        outcome = "error" if error_codes else "success"
        self.graphql_requests.record(self.operations(operation), outcome, seconds)
        for code in error_codes:
            self.errors.labels(code=code).inc()

    def client_label(self, client_name: str) -> str:
        """The label a client's self-declared name is counted under."""
        return self.clients(client_name)

    def record_deprecated_usage(self, coordinates: Iterable[str], client: str) -> None:
        """Count an authenticated request's use of deprecated coordinates (`client` a label)."""
        for coordinate in sorted(coordinates):
            self.deprecated_usage.labels(coordinate=coordinate, client=client).inc()
            logger.warning("deprecated usage: %s by client %s", coordinate, client)

    def measured(self, provider: CompetitorProvider) -> CompetitorProvider:
        return MeasuredProvider(provider, self)


class MeasuredProvider:
    """A competitor provider whose every call is counted and timed."""

    def __init__(self, provider: CompetitorProvider, metrics: Metrics) -> None:
        self.provider = provider
        self.metrics = metrics
        self.name = provider.name

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await self.provider.discover(request)
        except ProviderError as error:
            outcome = error.code
            raise
        except (TimeoutError, asyncio.CancelledError):
            outcome = "timeout"
            raise
        else:
            outcome = "ok"
            return result
        finally:
            self.metrics.provider_calls.record(self.name, outcome, time.perf_counter() - started)
