"""What the resolvers need from the outside world, handed to them per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from db.change_feed import ChangeFeed, LocalChangeFeed
from db.fast_reads import EngineReads, Reads
from db.records import DiscoveryRecord
from discovery import CompetitorProvider
from resolvers.secrets import SecretBox

if TYPE_CHECKING:
    from resolvers.discovery_jobs import DiscoveryJobs


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DiscoveryPolicy:
    """Where competitors come from and the limits discoveries run under."""

    provider: CompetitorProvider
    # The provider's budget for one attempt of a job.
    timeout_seconds: float = 30.0
    # New jobs per user a minute, failed ones included; joins and cache hits are free.
    per_minute: int = 10
    cache_ttl: timedelta = timedelta(hours=24)
    # Provider calls at once, for one user and in total (every process on the database).
    running_per_user: int = 3
    running_total: int = 25
    # How much longer than the provider's budget a waiting (`wait: true`) request
    # waits for its job before it answers the discovery as it stands.
    wait_margin_seconds: float = 2.5

    @property
    def wait_seconds(self) -> float:
        return self.timeout_seconds + self.wait_margin_seconds


class JobEvent(StrEnum):
    """What happened to a discovery job, for metrics."""

    STARTED = "started"  # a new job: one reservation against the rate limit
    JOINED = "joined"  # a request joined a job already under way
    COMPLETED = "completed"
    FAILED = "failed"
    TAKEN_OVER = "taken_over"  # this process took over a job whose lease had expired
    RELEASED = "released"  # this process handed a job back at shutdown


DiscoveryListener = Callable[[DiscoveryRecord], Awaitable[None]]
JobEventRecorder = Callable[[JobEvent], None]


async def ignore_discovery_change(record: DiscoveryRecord) -> None:
    return None


def ignore_job_event(event: JobEvent) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Services:
    engine: AsyncEngine
    secret_box: SecretBox
    clock: Callable[[], datetime] = utc_now
    # None means the offline catalog in `engine` with the default limits.
    discovery: DiscoveryPolicy | None = None
    # This process's job runner; None (scripts, tests) means one made per request.
    discovery_jobs: DiscoveryJobs | None = None
    # Told of every status change of every discovery job, in the process that made
    # it (e.g. to publish it to other processes); never raises into the job.
    on_discovery_change: DiscoveryListener = ignore_discovery_change
    record_job_event: JobEventRecorder = ignore_job_event
    # Where changes are announced to subscribers (`resolvers/changes.py`): by default
    # this process only; the app uses the database's (PostgreSQL LISTEN/NOTIFY).
    changes: ChangeFeed = field(default_factory=LocalChangeFeed)
    # Reads on the request path, straight on the driver (`db.fast_reads`); None
    # (scripts, tests) reads through `engine`.
    fast_reads: Reads | None = None

    @property
    def reads(self) -> Reads:
        return self.fast_reads or EngineReads(self.engine)
