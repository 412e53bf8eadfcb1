"""The job runner on a real database: takeover, failure after too many attempts, hand-back.

"Another process" is a second `DiscoveryJobs` with its own owner name on the
same database, which is all a process is to the rows; a dead one is a row
whose lease expired. The provider is in-process and answers when told to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.discovery_repository import insert_discovery
from db.engine import create_engine, read_transaction, write_transaction
from db.models import competitor_discoveries
from db.records import DiscoveryRecord, DiscoveryStatus
from discovery import (
    Competitor,
    DiscoveryRequest,
    DiscoveryResult,
    SocialMediaAccounts,
    normalise_url,
)
from resolvers.discovery import discover_competitors
from resolvers.discovery_input import DiscoveryForm, question_hash
from resolvers.discovery_jobs import DiscoveryJobs, JobLimits
from resolvers.global_ids import discovery_key
from resolvers.secrets import SecretBox
from resolvers.services import DiscoveryPolicy, JobEvent, Services, utc_now

USER = "user-a"
FORM = DiscoveryForm(
    user_url="https://acme.com",
    industry_context=None,
    num_results=1,
    website_analysis_data={"content_type": "shop"},
    wait=False,
)
LIMITS = JobLimits(lease_seconds=3, sweep_seconds=60, poll_seconds=0.02, max_attempts=2)


class HeldProvider:
    """Answers one competitor once `answer` is set; counts its calls."""

    name = "held"

    def __init__(self) -> None:
        self.answer = asyncio.Event()
        self.calls = 0
        self.asked = asyncio.Event()

    async def discover(self, request: DiscoveryRequest) -> DiscoveryResult:
        self.calls += 1
        self.asked.set()
        await self.answer.wait()
        return DiscoveryResult(
            competitors=(Competitor(url="https://www.rival.com/", domain="rival.com"),),
            social_media_accounts=SocialMediaAccounts(),
            social_media_citations=(),
            provider=self.name,
            requested_results=request.num_results,
        )


@dataclass
class Process:
    """What one service process is to the jobs: a runner, and what it reported."""

    services: Services
    changes: list[DiscoveryStatus] = field(default_factory=list)
    events: list[JobEvent] = field(default_factory=list)

    @property
    def jobs(self) -> DiscoveryJobs:
        assert self.services.discovery_jobs is not None
        return self.services.discovery_jobs


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


def process(engine: AsyncEngine, provider: HeldProvider, limits: JobLimits = LIMITS) -> Process:
    changes: list[DiscoveryStatus] = []
    events: list[JobEvent] = []

    async def listen(record: DiscoveryRecord) -> None:
        changes.append(record.status)

    services = Services(
        engine=engine,
        secret_box=SecretBox([SecretBox.generate_key()]),
        discovery=DiscoveryPolicy(provider=provider, timeout_seconds=5),
        discovery_jobs=DiscoveryJobs(limits),
        on_discovery_change=listen,
        record_job_event=events.append,
    )
    return Process(services, changes, events)


async def abandoned_job(engine: AsyncEngine, *, attempts: int) -> str:
    """A RUNNING job of USER whose process died (its lease ran out a minute ago)."""
    request = DiscoveryRequest(
        site=normalise_url("https://acme.com"),
        industry_context=None,
        num_results=1,
        website_analysis={"content_type": "shop"},
    )
    now = utc_now()
    record = DiscoveryRecord(
        id="0b3c1f9e-4a55-4a8e-9f10-5d7a3c2b1e00",
        user_id=USER,
        url=request.site.url,
        domain=request.site.registrable_domain,
        industry_context=None,
        requested_results=1,
        provider="held",
        result=None,
        created_at=now - timedelta(minutes=2),
        status=DiscoveryStatus.RUNNING,
    )
    async with write_transaction(engine) as connection:
        await insert_discovery(
            connection,
            record,
            question_hash=question_hash(USER, request),
            website_analysis_data={"content_type": "shop"},
            lease_owner="a-process-that-died",
            lease_expires_at=now - timedelta(minutes=1),
        )
        await connection.execute(
            update(competitor_discoveries)
            .where(competitor_discoveries.c.id == record.id)
            .values(attempts=attempts)
        )
    return record.id


async def row(engine: AsyncEngine, job_id: str) -> Row[Any]:
    async with read_transaction(engine) as connection:
        return (
            await connection.execute(
                select(competitor_discoveries).where(competitor_discoveries.c.id == job_id)
            )
        ).one()


async def test_a_job_whose_process_died_is_taken_over_and_completed(engine: AsyncEngine) -> None:
    # given a job left RUNNING by a process that died after one provider attempt
    job_id = await abandoned_job(engine, attempts=1)
    provider = HeldProvider()
    provider.answer.set()
    survivor = process(engine, provider)
    # when a live process sweeps
    taken = await survivor.jobs.sweep(survivor.services)
    # then it takes the job over and runs it to the end, asking the provider once more
    assert taken == 1
    final = await survivor.jobs.wait(survivor.services, USER, job_id, at_most=10)
    assert final is not None
    assert final.status is DiscoveryStatus.COMPLETED
    assert provider.calls == 1
    stored = await row(engine, job_id)
    assert stored.attempts == 2
    assert stored.lease_owner is None
    assert stored.website_analysis_data is None  # the question is not kept once answered
    assert survivor.events == [JobEvent.TAKEN_OVER, JobEvent.COMPLETED]
    assert survivor.changes == [
        DiscoveryStatus.PENDING,
        DiscoveryStatus.RUNNING,
        DiscoveryStatus.COMPLETED,
    ]


async def test_a_job_out_of_attempts_is_failed_not_tried_again(engine: AsyncEngine) -> None:
    # given a job whose process died during its second and last allowed attempt
    job_id = await abandoned_job(engine, attempts=LIMITS.max_attempts)
    provider = HeldProvider()
    survivor = process(engine, provider)
    # when a live process sweeps
    await survivor.jobs.sweep(survivor.services)
    # then the job is FAILED as unavailable, and the provider is not asked again
    stored = await row(engine, job_id)
    assert stored.status == "FAILED"
    assert stored.failure_code == "PROVIDER_UNAVAILABLE"
    assert stored.lease_owner is None
    assert provider.calls == 0
    assert survivor.events == [JobEvent.FAILED]
    # and a second sweep finds nothing to do
    assert await survivor.jobs.sweep(survivor.services) == 0


async def test_a_closing_process_hands_its_jobs_to_another(engine: AsyncEngine) -> None:
    # given a job running in one process, its provider still working
    provider = HeldProvider()
    leaving = process(engine, provider)
    outcome = await discover_competitors(leaving.services, USER, FORM)
    assert outcome.discovery is not None
    job_id = discovery_key(outcome.discovery.global_id)
    assert job_id is not None
    await provider.asked.wait()
    # when that process shuts down
    await leaving.jobs.close(leaving.services)
    # then the job is PENDING, held by nobody, its lease already expired
    stored = await row(engine, job_id)
    assert stored.status == "PENDING"
    assert stored.lease_owner is None
    assert stored.lease_expires_at is not None
    assert leaving.events == [JobEvent.STARTED, JobEvent.RELEASED]
    # and the next sweep of another process takes it over and completes it
    provider.answer.set()
    staying = process(engine, provider)
    assert await staying.jobs.sweep(staying.services) == 1
    final = await staying.jobs.wait(staying.services, USER, job_id, at_most=10)
    assert final is not None
    assert final.status is DiscoveryStatus.COMPLETED
    assert (await row(engine, job_id)).attempts == 2
    assert provider.calls == 2


async def test_a_process_whose_lease_was_taken_stops_and_writes_nothing(
    engine: AsyncEngine,
) -> None:
    # given a job running in a process that renews its lease every 0.1 s
    provider = HeldProvider()
    slow = process(engine, provider, JobLimits(lease_seconds=0.3, poll_seconds=0.02))
    outcome = await discover_competitors(slow.services, USER, FORM)
    assert outcome.discovery is not None
    job_id = discovery_key(outcome.discovery.global_id)
    assert job_id is not None
    await provider.asked.wait()
    # when another process takes the job (as after the first one stalled past its lease)
    async with write_transaction(engine) as connection:
        await connection.execute(
            update(competitor_discoveries)
            .where(competitor_discoveries.c.id == job_id)
            .values(lease_owner="the-other-process")
        )
    # then the first process gives the job up at its next renewal, without answering
    deadline = asyncio.get_running_loop().time() + 10
    while job_id in slow.jobs.running():
        assert asyncio.get_running_loop().time() < deadline, "the job was never given up"
        await asyncio.sleep(0.02)
    provider.answer.set()
    stored = await row(engine, job_id)
    assert stored.status == "RUNNING"
    assert stored.lease_owner == "the-other-process"
    assert stored.result is None
    assert JobEvent.COMPLETED not in slow.events


async def test_the_database_admits_one_active_job_per_user_and_question(
    engine: AsyncEngine,
) -> None:
    # given a job under way
    job_id = await abandoned_job(engine, attempts=1)
    stored = await row(engine, job_id)
    now = utc_now()
    twin = DiscoveryRecord(
        id="5e0f1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
        user_id=USER,
        url=stored.url,
        domain=stored.domain,
        industry_context=None,
        requested_results=1,
        provider="held",
        result=None,
        created_at=now,
        status=DiscoveryStatus.PENDING,
    )
    # when a second active job for the same question is stored / then the database refuses
    with pytest.raises(IntegrityError):
        async with write_transaction(engine) as connection:
            await insert_discovery(connection, twin, question_hash=stored.question_hash)
    # and once the first is final, a new one for the same question is accepted
    async with write_transaction(engine) as connection:
        await connection.execute(
            update(competitor_discoveries)
            .where(competitor_discoveries.c.id == job_id)
            .values(status="FAILED")
        )
        await insert_discovery(connection, twin, question_hash=stored.question_hash)
