"""Prometheus metrics the service exports at /metrics."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter

logger = logging.getLogger(__name__)


class Metrics:
    """One registry per app, so each app built in a process (tests do) counts alone."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deprecated_usage = Counter(
            "onboarding_deprecated_usage",
            "Uses of deprecated fields, arguments and input fields, by schema coordinate"
            " and client name.",
            ["coordinate", "client"],
            registry=self.registry,
        )

    def record_deprecated_usage(self, coordinate: str, context: Any) -> None:
        client = getattr(context, "client_name", "unknown")
        self.deprecated_usage.labels(coordinate=coordinate, client=client).inc()
        logger.warning("deprecated usage: %s by client %s", coordinate, client)
