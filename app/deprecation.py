"""What the HTTP edge does when an operation used something deprecated.

Execution only reports the coordinates it used (on the GraphQL context); here
the response is told what is going away and when (RFC 9745 `Deprecation`,
RFC 8594 `Sunset`, and a `Link` to where it is explained), and the use is
counted, in the metrics and the database, when a verified user made it: an
anonymous request cannot add series or rows, and cannot fake a client's use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.datastructures import MutableHeaders

from app.deprecated_usage_ledger import DeprecatedUsageLedger
from app.metrics import Metrics
from schema import GraphQLContext

# When `sessionId`, the schema's only deprecation so far, was deprecated.
DEPRECATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DeprecationNotice:
    """The response headers of a request that used something deprecated."""

    link: str
    sunset: datetime | None = None
    deprecated_at: datetime = DEPRECATED_AT

    def headers(self) -> dict[str, str]:
        headers = {
            # RFC 9745: a Structured Field Date, seconds since the epoch.
            "Deprecation": f"@{int(self.deprecated_at.timestamp())}",
            "Link": f'<{self.link}>; rel="deprecation"',
        }
        if self.sunset is not None:
            sunset = self.sunset if self.sunset.tzinfo else self.sunset.replace(tzinfo=UTC)
            # RFC 8594: an HTTP-date; its `sunset` link points at the same explanation.
            headers["Sunset"] = format_datetime(sunset.astimezone(UTC), usegmt=True)
            headers["Link"] += f', <{self.link}>; rel="sunset"'
        return headers


@dataclass(frozen=True, slots=True)
class DeprecatedUsageDesk:
    """Answers and counts the deprecated usage an operation reports."""

    notice: DeprecationNotice
    metrics: Metrics
    ledger: DeprecatedUsageLedger

    def after_execution(self, context: GraphQLContext, headers: MutableHeaders) -> None:
        """Tell the client what it used is going away; count the use if a verified user made it."""
        coordinates = context.deprecated_coordinates
        if not coordinates:
            return
        headers.update(self.notice.headers())
        if context.viewer is None:
            return
        client = self.metrics.client_label(context.client_name)
        self.metrics.record_deprecated_usage(coordinates, client)
        self.ledger.record(coordinates, client)
