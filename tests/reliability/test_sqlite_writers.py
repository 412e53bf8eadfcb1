"""SQLite: the writers of one process are served in the order they arrived.

SQLite admits one writer at a time. Writers that all wait on its busy timeout
poll, and whoever polls at the right moment wins: under load one writer waited
12.8 s while others came and went (2 workers x 30 writers, p99 2.3 s). Writers
now queue in their process first, first come first served, while another
process writes to the same file. Latency is measured by `bench/sqlite_writers.py`;
this test counts the writers served out of turn.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from auth import DevIssuer
from db.engine import create_engine, write_transaction
from db.models import onboarding_progress
from db.progress_repository import create_progress
from db.timeouts import DatabaseTimeouts
from resolvers.steps import STEP_NUMBERS
from tests.reliability.load import Load
from tests.support.databases import SQLiteDatabases
from tests.support.server_process import clean_environment, service

WRITERS = 30
ROUNDS = 3
# Generous: this test is about order, not speed, on however busy a machine.
PATIENT = DatabaseTimeouts(statement_seconds=60, pool_seconds=60)


async def _one_round(round_number: int, database_url: str) -> tuple[list[int], list[int]]:
    """Thirty writers arriving over ~50 ms; the order they arrived and were served in."""
    engine = create_engine(database_url, PATIENT)
    arrived: list[int] = []
    served: list[int] = []

    async def writer(number: int) -> None:
        await asyncio.sleep(random.uniform(0, 0.05))
        arrived.append(number)
        async with write_transaction(engine) as connection:
            served.append(number)
            user = f"writer-{round_number}-{number}"
            await create_progress(connection, user, STEP_NUMBERS, datetime.now(UTC))

    try:
        await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    finally:
        await engine.dispose()
    return arrived, served


async def _writers_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).where(onboarding_progress.c.user_id.like("writer-%"))
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_writers_of_one_process_are_served_in_arrival_order(
    sqlite_databases: SQLiteDatabases, tmp_path: Path
) -> None:
    with sqlite_databases.fresh() as database_url:
        # given a served process writing to the same SQLite file under a steady load
        environment = clean_environment(
            {"ONBOARDING_DATABASE_URL": database_url, "ONBOARDING_DATA_DIR": str(tmp_path)}
        )
        token = DevIssuer.load_or_create(tmp_path).mint("the-other-process")
        with service(tmp_path, environment) as running:
            load = Load(running.base_url, token)
            loading = asyncio.create_task(load.run())
            try:
                await asyncio.sleep(1.0)
                # when, in this process, rounds of thirty writers arrive at once
                rounds = [await _one_round(number, database_url) for number in range(ROUNDS)]
            finally:
                load.stop()
                await loading

        # then each was served in the order it arrived: not one out of turn
        out_of_turn = sum(
            position_arrived != position_served
            for arrived, served in rounds
            for position_arrived, position_served in zip(arrived, served, strict=True)
        )
        assert out_of_turn == 0, rounds
        # and every write was kept
        assert await _writers_rows(database_url) == ROUNDS * WRITERS
        # and the other process wrote all along, every one of its requests answered
        assert sum(1 for answer in load.answers if answer.ok) > 0
        assert all(answer.ok for answer in load.answers), {
            (answer.status, answer.codes) for answer in load.answers if not answer.ok
        }
