"""The competitor discovery use cases: discover (a job: joined, cached or new), read, list.

Single flight, cache and rate limit live in the database, not in the process,
so any number of app processes sharing one database agree on all three. A new
job is decided and stored in one transaction serialised per user (SQLite's
BEGIN IMMEDIATE, a PostgreSQL advisory lock), so concurrent requests can
neither overshoot the rate limit nor start the same question twice (a unique
index over active jobs is the last word); the same transaction stores the job's
reservation (`resolvers/discovery_rate_limit.py`). The provider is called by the job,
outside any transaction, detached from the request (`resolvers/discovery_jobs.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from db.discovery_jobs import insert_job, serialise_slot_claims, submissions_lock
from db.discovery_repository import (
    count_discoveries,
    find_active,
    find_active_or_recent_identical,
    get_discoveries,
    get_discovery,
    list_discoveries,
)
from db.engine import Transaction, read_transaction, write_transaction
from db.fast_reads import Reads
from db.records import DiscoveryRecord, DiscoveryStatus
from discovery import DiscoveryRequest
from resolvers.changes import discovery_topic
from resolvers.discovery_codec import Discovery, decode, failure_of, research_step_data
from resolvers.discovery_input import DiscoveryForm, check_discovery_form, question_hash
from resolvers.discovery_jobs import DiscoveryJobs, announce
from resolvers.discovery_provider import policy_of
from resolvers.discovery_rate_limit import reserve_within_limit
from resolvers.errors import ErrorCode, Problem
from resolvers.global_ids import discovery_key
from resolvers.services import JobEvent, Services

DISCOVERY_ID_FIELD = ("input", "discoveryId")
# Lost single-flight races before giving up (each loser joins the winner's job).
_SUBMIT_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class DiscoveryOutcome:
    discovery: Discovery | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class DiscoveryPage:
    discoveries: tuple[Discovery, ...]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """The job a request got: a new one, one under way it joined, or a cached result."""

    record: DiscoveryRecord
    joined: bool = False
    cached: bool = False


def jobs_of(services: Services) -> DiscoveryJobs:
    return services.discovery_jobs or DiscoveryJobs()


async def _existing(
    source: Transaction | Reads,
    services: Services,
    user_id: str,
    request: DiscoveryRequest,
    question: str,
    *,
    refresh: bool,
) -> Submission | None:
    """The job under way for the question, else (unless `refresh`) a recent result.

    `source`: the per-user write transaction's connection, or the fast reads.
    """
    if refresh:
        active = await find_active(source, user_id, question)
        return Submission(active, joined=True) if active is not None else None
    found = await find_active_or_recent_identical(
        source,
        user_id=user_id,
        question_hash=question,
        url=request.site.url,
        industry_context=request.industry_context,
        requested_results=request.num_results,
        since=services.clock() - policy_of(services).cache_ttl,
    )
    if found is None:
        return None
    if found.status.is_active:
        return Submission(found, joined=True)
    return Submission(found, cached=True)


async def _store_new_job(
    connection: Transaction,
    services: Services,
    jobs: DiscoveryJobs,
    user_id: str,
    request: DiscoveryRequest,
    question: str,
) -> DiscoveryRecord | Problem:
    """A new job held by this process, or RATE_LIMITED; under the per-user lock.

    RUNNING if a provider slot is free now (claimed in this transaction), else PENDING.
    """
    policy = policy_of(services)
    now = services.clock()
    job_id = str(uuid.uuid4())
    refused = await reserve_within_limit(connection, policy, user_id, job_id, now)
    if refused is not None:
        return refused
    # Last, so the lock on every user's slots is held only for the insert and the commit.
    await serialise_slot_claims(connection)
    analysis = request.website_analysis
    record = await insert_job(
        connection,
        DiscoveryRecord(
            id=job_id,
            user_id=user_id,
            url=request.site.url,
            domain=request.site.registrable_domain,
            industry_context=request.industry_context,
            requested_results=request.num_results,
            provider=policy.provider.name,
            result=None,
            created_at=now,
        ),
        question_hash=question,
        website_analysis_data=dict(analysis) if analysis is not None else None,
        lease_owner=jobs.owner,
        lease_expires_at=jobs.lease_until(now),
        running_total=policy.running_total,
        running_per_user=policy.running_per_user,
    )
    await services.changes.announce_on_commit(connection, discovery_topic(job_id))
    return record


async def _submit(
    services: Services,
    jobs: DiscoveryJobs,
    user_id: str,
    request: DiscoveryRequest,
    *,
    refresh: bool,
) -> Submission | Problem:
    question = question_hash(user_id, request)
    # Joins and cache hits are read without the per-user lock.
    found = await _existing(services.reads, services, user_id, request, question, refresh=refresh)
    for _ in range(_SUBMIT_ATTEMPTS):
        if found is not None:
            if found.joined:
                services.record_job_event(JobEvent.JOINED)
            return found
        try:
            async with write_transaction(
                services.engine, serialised_by=submissions_lock(user_id)
            ) as connection:
                found = await _existing(
                    connection, services, user_id, request, question, refresh=refresh
                )
                if found is not None:
                    continue
                stored = await _store_new_job(
                    connection, services, jobs, user_id, request, question
                )
        except IntegrityError:
            # Another instance stored the same job first (the unique index said so).
            found = await _existing(
                services.reads, services, user_id, request, question, refresh=refresh
            )
            continue
        if isinstance(stored, Problem):
            return stored
        await announce(services, stored, JobEvent.STARTED)
        jobs.launch(
            services,
            user_id,
            stored.id,
            request,
            running=stored.status is DiscoveryStatus.RUNNING,
        )
        return Submission(stored)
    return Problem(ErrorCode.CONFLICT, "The same discovery was being started elsewhere; try again.")


def _deleted() -> Problem:
    return Problem(
        ErrorCode.NOT_FOUND, "The discovery was deleted (onboarding was reset) before it finished."
    )


async def discover_competitors(
    services: Services, user_id: str, form: DiscoveryForm
) -> DiscoveryOutcome:
    """The discovery for the form: the job it started or joined, or a cached one.

    With `form.wait` it answers once the job is final (or the wait ran out),
    a failed job as its user error, exactly as the synchronous path did.
    """
    request, problems = check_discovery_form(form)
    if request is None:
        return DiscoveryOutcome(None, tuple(problems))
    jobs = jobs_of(services)
    submitted = await _submit(services, jobs, user_id, request, refresh=form.refresh)
    if isinstance(submitted, Problem):
        return DiscoveryOutcome(None, (submitted,))
    record = submitted.record
    if form.wait and record.status.is_active:
        at_most = policy_of(services).wait_seconds
        waited = await jobs.wait(services, user_id, record.id, at_most=at_most)
        if waited is None:
            return DiscoveryOutcome(None, (_deleted(),))
        record = waited
        failure = failure_of(record)
        if failure is not None:
            return DiscoveryOutcome(None, (failure,))
    return DiscoveryOutcome(decode(record, cached=submitted.cached))


async def find_discovery(services: Services, user_id: str, global_id: str) -> Discovery | None:
    """The viewer's discovery with that global id; None if malformed, unknown or not theirs."""
    key = discovery_key(global_id)
    if key is None:
        return None
    record = await get_discovery(services.reads, user_id, key)
    return decode(record) if record is not None else None


async def find_discoveries(
    services: Services, user_id: str, discovery_ids: Sequence[str]
) -> dict[str, Discovery]:
    """The user's discoveries among `discovery_ids` (stored ids), by id; others are left out."""
    async with read_transaction(services.engine) as connection:
        records = await get_discoveries(connection, user_id, discovery_ids)
    return {record.id: decode(record) for record in records}


async def discovery_count(services: Services, user_id: str) -> int:
    """How many discoveries the user has, for a connection's `totalCount`."""
    async with read_transaction(services.engine) as connection:
        return await count_discoveries(connection, user_id)


async def discovery_page(
    services: Services, user_id: str, *, first: int, after: tuple[datetime, str] | None
) -> DiscoveryPage:
    """Up to `first` of the user's discoveries, newest first, after the `after` position."""
    async with read_transaction(services.engine) as connection:
        records: Sequence[DiscoveryRecord] = await list_discoveries(
            connection, user_id, limit=first + 1, before=after
        )
    return DiscoveryPage(
        discoveries=tuple(decode(record) for record in records[:first]),
        has_next_page=len(records) > first,
    )


async def research_step_input(
    services: Services, user_id: str, number: int, data: object, global_id: str
) -> tuple[object, Problem | None]:
    """Step data made from one of the user's discoveries, or why it cannot be.

    Other keys the client sent in `data` are kept; the discovery's competitors
    and summary replace any the client sent.
    """
    if number != 3:
        message = "discoveryId is only accepted for step 3 (AI Research)."
        return data, Problem(ErrorCode.VALIDATION_FAILED, message, DISCOVERY_ID_FIELD)
    if data is not None and not isinstance(data, Mapping):
        return data, None  # the step's own checks report it at ["input", "data"]
    discovery = await find_discovery(services, user_id, global_id)
    if discovery is None:
        message = "No competitor discovery of yours has that id."
        return data, Problem(ErrorCode.NOT_FOUND, message, DISCOVERY_ID_FIELD)
    if discovery.status is not DiscoveryStatus.COMPLETED:
        message = f"That discovery is {discovery.status.value}; only a COMPLETED one can be used."
        return data, Problem(ErrorCode.VALIDATION_FAILED, message, DISCOVERY_ID_FIELD)
    sent: dict[str, Any] = dict(data or {})
    return {**sent, **research_step_data(discovery)}, None
