"""The rate limit's reservations on a real database: counted for a minute, then swept away.

That a hard reset gives back nothing is shown end to end in
`tests/security/test_discovery_cost.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, read_transaction, write_transaction
from db.models import discovery_reservations
from resolvers.catalog import catalog_provider
from resolvers.discovery_jobs import DiscoveryJobs
from resolvers.discovery_rate_limit import reserve_within_limit
from resolvers.errors import ErrorCode, Problem
from resolvers.secrets import SecretBox
from resolvers.services import DiscoveryPolicy, Services, utc_now

USER = "user-a"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


async def reserve(engine: AsyncEngine, user_id: str, at: datetime) -> tuple[str, Problem | None]:
    """A new job's id, and why it may not start (None when it was reserved)."""
    policy = DiscoveryPolicy(provider=catalog_provider(engine), per_minute=3)
    job_id = str(uuid.uuid4())
    async with write_transaction(engine) as connection:
        return job_id, await reserve_within_limit(connection, policy, user_id, job_id, at)


async def reserved(engine: AsyncEngine) -> set[str]:
    async with read_transaction(engine) as connection:
        return set((await connection.execute(select(discovery_reservations.c.id))).scalars())


async def test_the_sweep_forgets_reservations_once_they_no_longer_count(
    engine: AsyncEngine,
) -> None:
    # given a limit of 3 a minute, two of a user's reservations at t0 and one at t0 + 45 s
    t0 = utc_now()
    made = [await reserve(engine, USER, at) for at in (t0, t0, t0 + timedelta(seconds=45))]
    assert [problem for _, problem in made] == [None, None, None]
    late = made[2][0]
    # when a process sweeps 61 s after t0
    now = t0 + timedelta(seconds=61)
    jobs = DiscoveryJobs()
    services = Services(
        engine=engine, secret_box=SecretBox([SecretBox.generate_key()]), clock=lambda: now
    )
    await jobs.sweep(services)
    # then only the reservation still inside the window is kept
    assert await reserved(engine) == {late}
    # and it still counts: two more jobs are admitted now, the next refused until t0 + 105 s
    admitted = [await reserve(engine, USER, now) for _ in range(2)]
    _, refused = await reserve(engine, USER, now)
    assert [problem for _, problem in admitted] == [None, None]
    assert refused is not None
    assert refused.code is ErrorCode.RATE_LIMITED
    assert "try again in 44 seconds" in refused.message
    assert await reserved(engine) == {late, *(job_id for job_id, _ in admitted)}
