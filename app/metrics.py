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
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from discovery import CompetitorProvider, DiscoveryRequest, DiscoveryResult, ProviderError

logger = logging.getLogger(__name__)

# The date `sessionId` was deprecated (2026-01-01T00:00:00Z), as RFC 9745 spells it.
DEPRECATION_DATE = "@1767225600"
SCHEMA_CHANGELOG_URL = "/SCHEMA_CHANGELOG.md"

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PROVIDER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class Metrics:
    """One registry per app, so each app built in a process (tests do) counts alone."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "onboarding_graphql_requests",
            "GraphQL operations executed, by operation name and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "onboarding_graphql_request_duration_seconds",
            "Time to execute a GraphQL operation (parse, validate, execute), by operation name.",
            ["operation"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "onboarding_graphql_errors",
            "GraphQL errors answered, by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.provider_calls = Counter(
            "onboarding_provider_calls",
            "Calls to the competitor search provider, by provider and outcome.",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.provider_latency = Histogram(
            "onboarding_provider_call_duration_seconds",
            "Time a competitor search provider took to answer, by provider.",
            ["provider"],
            buckets=_PROVIDER_BUCKETS,
            registry=self.registry,
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

    def record_discovery_job(self, event: str) -> None:
        """One thing that happened to a discovery job (`resolvers.services.JobEvent`)."""
        self.discovery_jobs.labels(event=event).inc()

    def record_operation(self, operation: str, seconds: float, error_codes: list[str]) -> None:
        """One executed GraphQL operation and the codes of the errors it answered."""
        self.requests.labels(
            operation=operation, outcome="error" if error_codes else "success"
        ).inc()
        self.latency.labels(operation=operation).observe(seconds)
        for code in error_codes:
            self.errors.labels(code=code).inc()

    def record_deprecated_usage(self, coordinate: str, context: Any) -> None:
        """Count the use and tell the client, in the response's headers, what is going away."""
        client = getattr(context, "client_name", "unknown")
        self.deprecated_usage.labels(coordinate=coordinate, client=client).inc()
        logger.warning("deprecated usage: %s by client %s", coordinate, client)
        response = getattr(context, "response", None)
        if response is not None:
            response.headers["Deprecation"] = DEPRECATION_DATE
            response.headers["Link"] = f'<{SCHEMA_CHANGELOG_URL}>; rel="deprecation"'

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
            self.metrics.provider_calls.labels(provider=self.name, outcome=outcome).inc()
            self.metrics.provider_latency.labels(provider=self.name).observe(
                time.perf_counter() - started
            )
