"""Discovery jobs in this process: run them under a lease, take over expired ones, wait on them.

States and transitions (`db.records.DiscoveryStatus`)::

    new job ─▶ PENDING ──(a provider slot is free)──▶ RUNNING ──▶ COMPLETED
       │          ▲                                     ▲ │  └──▶ FAILED (the provider's error)
       │          └──(released at shutdown, or taken over once its lease expired)
       └──(a slot is free as it is stored)──────────────┘
    an expired job that already had `max_attempts` provider attempts ─▶ FAILED

A job is held by one process through a lease in its row, renewed every third
of `lease_seconds` while the process works on it (waiting for a slot or for
the provider). Every process sweeps every `sweep_seconds` for active jobs
whose lease expired (their process died, or let them go at shutdown) and
takes them over, or marks them FAILED once they have had `max_attempts`
provider attempts. A job whose process dies is therefore taken over or FAILED
within `lease_seconds + sweep_seconds` (20 s with the defaults). The sweep also
deletes the rate limit's reservations once they no longer count.

A provider attempt is counted in the row (`attempts`) in the same transaction
that makes the job RUNNING, before the provider is called; that transaction
also checks the caps on running jobs, per user and in total, under one lock
(`slot_is_free`). A new job usually finds a slot free: it is then stored RUNNING
by the transaction that decides on it, whose INSERT counts the running jobs
itself (`db.discovery_jobs.insert_job`), and its first attempt costs no
transaction of its own.

Every status change is announced by the transaction that makes it (other
processes hear of it when it commits), then goes through `announce`, which
tells `Services.on_discovery_change` and this process's subscribers
(`resolvers/changes.py`). A request waiting on a job this process runs gets
the row its final transaction returned, as soon as that transaction commits;
it reads the row only if the job ended otherwise (taken away, or deleted).
On another process's job it reads the row when a change of the job is
announced, or at the latest every `poll_seconds` (every
`ANNOUNCED_POLL_SECONDS` when the change feed reaches across processes, where
the poll is only the fallback for an announcement that was lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db.background import cancel_and_wait
from db.discovery_jobs import (
    count_running,
    expired_jobs,
    fail_expired,
    finish_job,
    release_jobs,
    renew_leases,
    serialise_slot_claims,
    start_running,
    take_over,
)
from db.discovery_repository import get_discovery
from db.engine import Transaction, read_transaction, write_transaction
from db.records import DiscoveryJob, DiscoveryRecord
from discovery import DiscoveryRequest, normalise_url
from resolvers.changes import discovery_topic
from resolvers.discovery_provider import ask_provider, policy_of
from resolvers.discovery_rate_limit import prune_spent_reservations
from resolvers.errors import ErrorCode, Problem
from resolvers.services import JobEvent, Services

logger = logging.getLogger(__name__)

# Every job task of the process, so that none is garbage-collected while it runs.
_DETACHED: set[asyncio.Task[None]] = set()

# A request waiting on another process's job wakes when the job's change is announced;
# it reads the row this often only in case an announcement was lost.
ANNOUNCED_POLL_SECONDS = 5.0

_INTERRUPTED = Problem(
    ErrorCode.PROVIDER_UNAVAILABLE,
    "The discovery was interrupted before it could finish; please try again.",
)


@dataclass(frozen=True, slots=True)
class JobLimits:
    """How jobs are held and watched; the app sets all but `sweep_batch` from its settings."""

    lease_seconds: float = 15.0
    """How long a lease holds a job: its process renews it every third of this; once it
    lapses (the process died, or let the job go) a sweep takes the job over or fails it."""
    sweep_seconds: float = 5.0
    """How often every process sweeps for active jobs whose lease expired."""
    poll_seconds: float = 0.5
    """How often a job waiting for a provider slot, and a request waiting on another
    process's job, look again (the request no more often than `ANNOUNCED_POLL_SECONDS`
    when the change feed reaches across processes)."""
    max_attempts: int = 2
    """Provider attempts a job gets in all: a job whose lease expires after as many is
    FAILED, not taken over."""
    sweep_batch: int = 20
    """Expired jobs one sweep handles at most; the rest wait for the next sweep."""

    @property
    def takeover_seconds(self) -> float:
        """At most this long after its process died, a job is taken over or FAILED."""
        return self.lease_seconds + self.sweep_seconds


class LeaseLostError(Exception):
    """Another process holds the job now, or it is gone: this one must stop working on it."""


def process_owner() -> str:
    """A name for this process in `lease_owner`, unique even across restarts with the same pid."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


async def announce(services: Services, record: DiscoveryRecord, event: JobEvent | None) -> None:
    """The one place every status change of a discovery job goes through, once committed.

    Its transaction announced it to the other processes.
    """
    if event is not None:
        services.record_job_event(event)
    try:
        await services.on_discovery_change(record)
    except Exception:  # a listener's failure must not stop the job
        logger.exception("the discovery change listener failed for %s", record.id)
    services.changes.deliver(discovery_topic(record.id))


def _request_of(job: DiscoveryJob) -> DiscoveryRequest | None:
    """The question a job asks, as its row keeps it; None if the row cannot say."""
    record = job.record
    analysis = job.website_analysis_data
    try:
        return DiscoveryRequest(
            site=normalise_url(record.url),
            industry_context=record.industry_context,
            num_results=record.requested_results,
            website_analysis=analysis if isinstance(analysis, Mapping) else None,
        )
    except ValueError:  # InvalidURLError too: rows hold normalised URLs, so this is a bug
        logger.exception("discovery job %s has a question that cannot be asked", record.id)
        return None


async def slot_is_free(
    connection: Transaction, services: Services, user_id: str, now: datetime
) -> bool:
    """Whether a job of the user may start now under the caps on running jobs.

    Until the transaction ends no other may start a job, so a job made RUNNING
    in it keeps the counts true.
    """
    policy = policy_of(services)
    await serialise_slot_claims(connection)
    total, of_user = await count_running(connection, user_id, now)
    return total < policy.running_total and of_user < policy.running_per_user


class DiscoveryJobs:
    """This process's share of the discovery jobs: the ones it runs, and the sweep."""

    def __init__(self, limits: JobLimits | None = None, *, owner: str | None = None) -> None:
        self.limits = limits or JobLimits()
        self.owner = owner or process_owner()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Each running job's end: its row as its final transaction returned it, or None
        # when it ended otherwise (then a waiter reads the row).
        self._ended: dict[str, asyncio.Future[DiscoveryRecord | None]] = {}
        self._slot_freed: asyncio.Event | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False

    def running(self) -> frozenset[str]:
        """The ids of the jobs this process is working on now."""
        return frozenset(self._tasks)

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.limits.lease_seconds)

    # -- running a job -----------------------------------------------------

    def launch(
        self,
        services: Services,
        user_id: str,
        job_id: str,
        request: DiscoveryRequest | None,
        *,
        running: bool = False,
    ) -> None:
        """Run a job this process holds, detached from whoever asked for it.

        `running`: the job was stored RUNNING (its slot claimed, its attempt counted).
        """
        if self._closing or job_id in self._tasks:
            return
        ended: asyncio.Future[DiscoveryRecord | None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            self._drive(services, user_id, job_id, request, ended, running),
            name=f"discovery-job-{job_id}",
        )
        self._tasks[job_id] = task
        self._ended[job_id] = ended
        _DETACHED.add(task)
        task.add_done_callback(_DETACHED.discard)

    async def _drive(
        self,
        services: Services,
        user_id: str,
        job_id: str,
        request: DiscoveryRequest | None,
        ended: asyncio.Future[DiscoveryRecord | None],
        running: bool,
    ) -> None:
        final: DiscoveryRecord | None = None
        try:
            answer = await self._attempt(services, user_id, job_id, request, running)
            if answer is not None:
                final = await self._finish(services, job_id, answer)
        except Exception:  # the lease expires and the sweep gives the job another go
            logger.exception("discovery job %s stopped unexpectedly", job_id)
        finally:
            self._tasks.pop(job_id, None)
            self._ended.pop(job_id, None)
            ended.set_result(final)
            self._free_slot()

    async def _attempt(
        self,
        services: Services,
        user_id: str,
        job_id: str,
        request: DiscoveryRequest | None,
        running: bool,
    ) -> dict[str, Any] | Problem | None:
        """Wait for a slot unless `running`, then ask the provider, holding the lease throughout.

        None when the job was taken from this process (or deleted) meanwhile.
        """
        answer: dict[str, Any] | Problem | None = None
        lost = False
        try:
            async with asyncio.TaskGroup() as group:
                lease = group.create_task(self._hold_lease(services, job_id))
                try:
                    if running or await self._wait_for_slot(services, user_id, job_id):
                        answer = (
                            _INTERRUPTED
                            if request is None
                            else await ask_provider(policy_of(services), request)
                        )
                finally:
                    lease.cancel()
        except* LeaseLostError:
            lost = True
        if lost:
            logger.warning("discovery job %s was taken from this process; it stops here", job_id)
            return None
        return answer

    async def _wait_for_slot(self, services: Services, user_id: str, job_id: str) -> bool:
        """Make the job RUNNING once the caps allow, and announce it; False if it is no
        longer this process's."""
        while True:
            async with write_transaction(services.engine) as connection:
                now = services.clock()
                free = await slot_is_free(connection, services, user_id, now)
                started = (
                    await start_running(connection, job_id, self.owner, self.lease_until(now))
                    if free
                    else None
                )
                if started is not None:
                    await services.changes.announce_on_commit(connection, discovery_topic(job_id))
            if started is not None:
                await announce(services, started.record, None)
                return True
            if free:  # a slot, but the job is no longer held here in PENDING
                return False
            await self._until_slot_freed()

    async def _until_slot_freed(self) -> None:
        # A job ending here frees a slot at once; one ending elsewhere is seen at the next poll.
        if self._slot_freed is None:
            self._slot_freed = asyncio.Event()
        freed = self._slot_freed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.limits.poll_seconds):
                await freed.wait()

    def _free_slot(self) -> None:
        if self._slot_freed is not None:
            self._slot_freed.set()
            self._slot_freed = None

    async def _hold_lease(self, services: Services, job_id: str) -> None:
        """Renew the job's lease until cancelled; LeaseLostError once it is not ours."""
        while True:
            await asyncio.sleep(self.limits.lease_seconds / 3)
            try:
                async with write_transaction(services.engine) as connection:
                    held = await renew_leases(
                        connection, [job_id], self.owner, self.lease_until(services.clock())
                    )
            except Exception as error:  # the database may be back before the lease runs out
                logger.warning(
                    "could not renew the lease of discovery job %s: %s",
                    job_id,
                    type(error).__name__,
                )
                continue
            if job_id not in held:
                raise LeaseLostError(job_id)

    async def _finish(
        self, services: Services, job_id: str, answer: dict[str, Any] | Problem
    ) -> DiscoveryRecord | None:
        """Store the job's end and announce it: the row as now stored; None if not ours."""
        result, failure = (
            (None, (answer.code.value, answer.message))
            if isinstance(answer, Problem)
            else (answer, None)
        )
        async with write_transaction(services.engine) as connection:
            record = await finish_job(
                connection,
                job_id,
                self.owner,
                now=services.clock(),
                provider=policy_of(services).provider.name,
                result=result,
                failure=failure,
            )
            if record is not None:
                await services.changes.announce_on_commit(connection, discovery_topic(job_id))
        if record is None:
            logger.warning("discovery job %s was taken from this process as it finished", job_id)
            return None
        await announce(services, record, JobEvent.FAILED if failure else JobEvent.COMPLETED)
        return record

    # -- waiting -----------------------------------------------------------

    async def wait(
        self, services: Services, user_id: str, job_id: str, *, at_most: float
    ) -> DiscoveryRecord | None:
        """The user's discovery once final, or as it stands after `at_most` seconds.

        None if the discovery is gone (a hard reset deleted it).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + at_most
        poll_seconds = self.limits.poll_seconds
        if services.changes.spans_processes:
            poll_seconds = max(poll_seconds, ANNOUNCED_POLL_SECONDS)
        # Watching before the first read: a change announced in between is not missed.
        with services.changes.watch(discovery_topic(job_id)) as changes:
            while True:
                # A job of this process's own needs no read until it ends, nor then
                # when its final transaction returned its row.
                ended = self._ended.get(job_id)
                if ended is not None:
                    # asyncio.wait, unlike a timeout, leaves the future to other waiters.
                    await asyncio.wait([ended], timeout=max(0.0, deadline - loop.time()))
                    final = ended.result() if ended.done() else None
                    if final is not None and final.user_id == user_id:
                        return final
                record = await get_discovery(services.reads, user_id, job_id)
                remaining = deadline - loop.time()
                if record is None or not record.status.is_active or remaining <= 0:
                    return record
                if job_id not in self._ended:
                    await changes.next_change(at_most=min(poll_seconds, remaining))

    # -- the sweep and the process's lifetime --------------------------------

    def start(self, services: Services) -> None:
        """Sweep for expired jobs now and every `sweep_seconds` until `close`."""
        if self._sweeper is None and not self._closing:
            self._sweeper = asyncio.create_task(
                self._sweep_forever(services), name="discovery-job-sweep"
            )

    async def _sweep_forever(self, services: Services) -> None:
        while True:
            try:
                await self.sweep(services)
            except Exception as error:  # the database is down: try again next time
                logger.warning("could not sweep for expired discovery jobs: %s", error)
            await asyncio.sleep(self.limits.sweep_seconds)

    async def sweep(self, services: Services) -> int:
        """Take over, or fail, the jobs whose lease expired; how many were handled.

        Also deletes the reservations the rate limit no longer counts.
        """
        now = services.clock()
        async with write_transaction(services.engine) as connection:
            await prune_spent_reservations(connection, now)
        async with read_transaction(services.engine) as connection:
            expired = await expired_jobs(connection, now, limit=self.limits.sweep_batch)
        handled = 0
        for job in expired:
            if self._closing:
                break
            if job.record.id in self._tasks:
                continue
            if await self._take_or_fail(services, job, now):
                handled += 1
        return handled

    async def _take_or_fail(self, services: Services, job: DiscoveryJob, now: datetime) -> bool:
        job_id = job.record.id
        if job.attempts >= self.limits.max_attempts:
            async with write_transaction(services.engine) as connection:
                failed = await fail_expired(
                    connection,
                    job_id,
                    now,
                    code=_INTERRUPTED.code.value,
                    message=_INTERRUPTED.message,
                )
                if failed is not None:
                    await services.changes.announce_on_commit(connection, discovery_topic(job_id))
            if failed is not None:
                logger.warning("discovery job %s failed after %d attempts", job_id, job.attempts)
                await announce(services, failed, JobEvent.FAILED)
            return failed is not None
        async with write_transaction(services.engine) as connection:
            taken = await take_over(connection, job_id, self.owner, now, self.lease_until(now))
            if taken is not None:
                await services.changes.announce_on_commit(connection, discovery_topic(job_id))
        if taken is None:  # another process was quicker
            return False
        logger.info("took over discovery job %s from %s", job_id, job.lease_owner)
        await announce(services, taken.record, JobEvent.TAKEN_OVER)
        self.launch(services, taken.record.user_id, job_id, _request_of(taken))
        return True

    async def close(self, services: Services) -> None:
        """Stop sweeping; hand every job still running here back for another process.

        A job handed back is PENDING with an expired lease: the next sweep of any
        process takes it over (or fails it once it has had `max_attempts`).
        """
        self._closing = True
        if self._sweeper is not None:
            await cancel_and_wait(self._sweeper)
        held = list(self._tasks)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if not held:
            return
        try:
            async with write_transaction(services.engine) as connection:
                released = await release_jobs(connection, held, self.owner, services.clock())
                for record in released:
                    await services.changes.announce_on_commit(
                        connection, discovery_topic(record.id)
                    )
        except Exception as error:  # their leases expire by themselves
            logger.warning(
                "could not hand back %d discovery jobs (%s); they are taken over once their"
                " leases expire",
                len(held),
                type(error).__name__,
            )
            return
        for record in released:
            logger.info("handed discovery job %s back for another process", record.id)
            await announce(services, record, JobEvent.RELEASED)
