"""The database stopped, frozen or locked: the service says so, stays up, and heals by itself."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.health import READINESS_TIMEOUT_SECONDS
from auth import DevIssuer
from tests.reliability.load import Load
from tests.reliability.own_postgres import OwnPostgres
from tests.support.databases import SQLiteDatabases
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA
from tests.support.server_process import Service, service, service_environment
from tests.support.waiting import until

OUTAGE_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 5.0


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as server:
        yield server


async def _readiness(client: httpx.AsyncClient, base_url: str) -> int:
    return (await client.get(f"{base_url}/readyz")).status_code


@asynccontextmanager
async def _service_under_load(
    own_postgres: OwnPostgres, tmp_path: Path, user: str, *, workers: int, probe_timeout: float
) -> AsyncIterator[tuple[Service, Load, httpx.AsyncClient]]:
    """The service on `own_postgres`, ready, under a steady load as `user`; a readiness probe.

    On the way out (a second after the body) the load stops, and the process must
    still be up.
    """
    environment = service_environment(own_postgres.url(), tmp_path)
    token = DevIssuer.load_or_create(tmp_path).mint(user)
    with service(tmp_path, environment) as running:
        load = Load(running.base_url, token, workers=workers)
        loading = asyncio.create_task(load.run())
        async with httpx.AsyncClient(timeout=probe_timeout) as probe:
            await asyncio.sleep(1.0)
            assert await _readiness(probe, running.base_url) == 200
            yield running, load, probe
            await asyncio.sleep(1.0)
        load.stop()
        await loading
        assert running.process.poll() is None


def _outcomes(load: Load) -> Counter[str]:
    """Each answer as "ok", "unavailable" or its status and codes."""
    return Counter(
        "ok" if a.ok else "unavailable" if a.unavailable else f"{a.status} {a.codes}"
        for a in load.answers
    )


def _report(record_property: Callable[[str, object], None], values: dict[str, object]) -> None:
    for name, value in values.items():
        record_property(name, value)
        print(f"{name}: {value}")


async def test_a_database_outage_is_reported_and_recovered_from_without_a_restart(
    own_postgres: OwnPostgres, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    # given the service on a PostgreSQL server of this test's own, under a steady load
    async with _service_under_load(
        own_postgres, tmp_path, "outage-user", workers=8, probe_timeout=10
    ) as (running, load, probe):
        # when the database stops
        stopping = time.monotonic()
        await asyncio.to_thread(own_postgres.stop)
        stopped = time.monotonic()
        # then readiness says so, and the process stays up
        assert await _readiness(probe, running.base_url) == 503
        await asyncio.sleep(OUTAGE_SECONDS)
        assert await _readiness(probe, running.base_url) == 503
        assert running.process.poll() is None

        # when the database comes back
        restarting = time.monotonic()
        await asyncio.to_thread(own_postgres.start)
        restarted = time.monotonic()
        # then the service heals by itself, with no restart
        while await _readiness(probe, running.base_url) != 200:
            assert time.monotonic() - restarted < RECOVERY_LIMIT_SECONDS, "never ready again"
            await asyncio.sleep(0.05)
        ready_after = time.monotonic() - restarted
        recovered_after = await until(
            lambda: any(a.ok for a in load.started_between(restarted, float("inf"))),
            within=RECOVERY_LIMIT_SECONDS,
        )

    before = [a for a in load.answers if a.finished < stopping]
    during = load.started_between(stopped, restarting)
    after = load.started_between(restarted + recovered_after + 0.5, float("inf"))
    # and every answer was a success or SERVICE_UNAVAILABLE with HTTP 503: never a 500,
    # never a dropped connection
    outcomes = _outcomes(load)
    assert set(outcomes) <= {"ok", "unavailable"}, outcomes
    # and while the database was down every request was answered, fast, as unavailable
    assert len(during) > 20
    assert all(a.unavailable for a in during)
    slowest_during = max(a.finished - a.started for a in during)
    assert slowest_during < 1.0
    # and before and (shortly) after it, every request succeeded
    assert before
    assert all(a.ok for a in before)
    assert after
    assert all(a.ok for a in after)
    _report(
        record_property,
        {
            "requests_during_outage": len(during),
            "slowest_answer_during_outage_s": round(slowest_during, 3),
            "outcomes": dict(outcomes),
            "ready_again_after_s": round(ready_after, 3),
            "first_success_after_s": round(recovered_after, 3),
        },
    )


# Longer than every database timeout, so each kind of wait is seen, and long enough
# that requests begun in its first seconds cannot be rescued by the thaw.
FROZEN_SECONDS = 8.0
UNAVAILABLE_WITHIN_SECONDS = 5.0
# More concurrent requests than the pool's 20 connections: some wait for the pool too.
FROZEN_LOAD_WORKERS = 30


async def _timed_readiness(client: httpx.AsyncClient, base_url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = await _readiness(client, base_url)
    return status, time.monotonic() - started


async def test_a_frozen_database_is_answered_unavailable_within_5_s(
    own_postgres: OwnPostgres, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    # given the service on a PostgreSQL server of this test's own, under a steady load
    async with _service_under_load(
        own_postgres, tmp_path, "frozen-user", workers=FROZEN_LOAD_WORKERS, probe_timeout=30
    ) as (running, load, probe):
        # when the database freezes (SIGSTOP: connections stay open, nothing answers)
        own_postgres.freeze()
        frozen = time.monotonic()
        try:
            # then readiness answers within its own budget, as unavailable
            readiness = [await _timed_readiness(probe, running.base_url) for _ in range(3)]
            await asyncio.sleep(FROZEN_SECONDS - (time.monotonic() - frozen))
            readiness.append(await _timed_readiness(probe, running.base_url))
        finally:
            own_postgres.thaw()
        thawed = time.monotonic()

        # and when it thaws, the service heals by itself
        ready_after = await _until_ready(probe, running.base_url)

    assert [status for status, _ in readiness] == [503] * len(readiness)
    slowest_readiness = max(seconds for _, seconds in readiness)
    assert slowest_readiness < READINESS_TIMEOUT_SECONDS
    # and every answer was a success or SERVICE_UNAVAILABLE with HTTP 503: never a 500,
    # never a dropped connection
    outcomes = _outcomes(load)
    assert set(outcomes) <= {"ok", "unavailable"}, outcomes
    # and every request that met the frozen database was answered unavailable within 5 s
    in_flight = [a for a in load.answers if a.started < frozen < a.finished]
    during = load.started_between(frozen, thawed)
    unavailable = [a for a in (*in_flight, *during) if a.unavailable]
    slowest_during = max(a.finished - max(a.started, frozen) for a in unavailable)
    assert slowest_during <= UNAVAILABLE_WITHIN_SECONDS
    # (all of those that began more than 5 s before the thaw, which no thaw could rescue)
    hopeless = [a for a in during if a.started < thawed - UNAVAILABLE_WITHIN_SECONDS]
    assert len(hopeless) >= FROZEN_LOAD_WORKERS
    assert all(a.unavailable for a in hopeless)
    # and shortly after the thaw every request succeeded again
    after = load.started_between(thawed + ready_after + 0.5, float("inf"))
    assert after
    assert all(a.ok for a in after)
    _report(
        record_property,
        {
            "requests_during_freeze": len(during),
            "answered_unavailable": len(unavailable),
            "slowest_answer_during_freeze_s": round(slowest_during, 3),
            "slowest_readiness_during_freeze_s": round(slowest_readiness, 3),
            "outcomes": dict(outcomes),
            "ready_again_after_thaw_s": round(ready_after, 3),
        },
    )


async def _until_ready(client: httpx.AsyncClient, base_url: str) -> float:
    started = time.monotonic()
    while await _readiness(client, base_url) != 200:
        assert time.monotonic() - started < RECOVERY_LIMIT_SECONDS, "never ready again"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


LOCKED_WRITERS = 4


async def test_a_locked_sqlite_database_answers_writes_unavailable_and_still_serves_reads(
    sqlite_databases: SQLiteDatabases,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    with sqlite_databases.fresh() as database_url:
        # given the service on SQLite, and a user with some progress
        environment = service_environment(database_url, tmp_path)
        headers = {"authorization": f"Bearer {DevIssuer.load_or_create(tmp_path).mint('u')}"}
        write = {"query": COMPLETE_STEP, "variables": {"input": {"step": 1, "data": STEP_DATA[1]}}}
        with service(tmp_path, environment) as running:
            graphql = f"{running.base_url}/graphql"
            async with httpx.AsyncClient(timeout=30) as client:
                assert (await client.post(graphql, json=write, headers=headers)).status_code == 200

                # when another process takes SQLite's write lock and never lets go
                holder = sqlite3.connect(
                    make_url(database_url).database or "", isolation_level=None
                )
                holder.execute("BEGIN IMMEDIATE")
                try:
                    started = time.monotonic()
                    writes = await asyncio.gather(
                        *(
                            client.post(graphql, json=write, headers=headers)
                            for _ in range(LOCKED_WRITERS)
                        )
                    )
                    slowest_write = time.monotonic() - started
                    read = await client.post(graphql, json={"query": PROGRESS}, headers=headers)
                finally:
                    holder.rollback()
                    holder.close()

                # and once it lets go
                after = await client.post(graphql, json=write, headers=headers)

    # then every write was answered SERVICE_UNAVAILABLE (HTTP 503) within 5 s
    assert [response.status_code for response in writes] == [503] * LOCKED_WRITERS
    codes = {error["extensions"]["code"] for r in writes for error in r.json()["errors"]}
    assert codes == {"SERVICE_UNAVAILABLE"}
    assert slowest_write <= UNAVAILABLE_WITHIN_SECONDS
    # and reads went on (WAL readers never wait for the writer)
    assert read.status_code == 200
    assert "errors" not in read.json()
    # and writes succeed again as soon as the lock is free
    assert after.status_code == 200
    assert after.json()["data"]["completeOnboardingStep"]["userErrors"] == []
    record_property("slowest_write_while_locked_s", round(slowest_write, 3))
    print(f"slowest_write_while_locked_s: {slowest_write:.3f}")
