"""Two app processes on one PostgreSQL database: concurrent writes of one user lose nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from auth import DevIssuer
from db.engine import create_engine
from db.models import onboarding_progress
from tests.support.graphql import execute_over_http
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, SKIP_STEP, STEP_DATA
from tests.support.server_process import two_services

ROUNDS = 8


def _data_for(step: int, round_number: int) -> dict[str, Any]:
    if step == 1:
        keys = dict(STEP_DATA[1]["apiKeys"])  # type: ignore[index]
        keys["gemini"] = f"AIzaSy0123456789abcdef-round{round_number:02d}"
        return {"apiKeys": keys}
    if step == 2:
        return {"website": f"https://round-{round_number}.example.com"}
    return {"round": round_number}


async def _version(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(onboarding_progress.c.version).where(
                    onboarding_progress.c.user_id == "racer"
                )
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_concurrent_completions_across_two_processes_lose_nothing(
    postgres_database_url: str, tmp_path: Path
) -> None:
    # given two service processes sharing one PostgreSQL database and one dev issuer
    token = DevIssuer.load_or_create(tmp_path).mint("racer")
    with two_services(postgres_database_url, tmp_path) as (first, second):
        async with httpx.AsyncClient(timeout=30) as client:
            # and a user who has done steps 1 to 5
            for step in (1, 2, 3, 5):
                if step == 5:
                    await execute_over_http(client, first, token, SKIP_STEP, {"input": {"step": 4}})
                variables = {"input": {"step": step, "data": STEP_DATA[step]}}
                await execute_over_http(client, first, token, COMPLETE_STEP, variables)
            start_version = await _version(postgres_database_url)
            for round_number in range(ROUNDS):
                # when, in each round, four different steps are re-completed at once,
                # alternately through each process
                writes = [
                    execute_over_http(
                        client,
                        (first, second)[index % 2],
                        token,
                        COMPLETE_STEP,
                        {"input": {"step": step, "data": _data_for(step, round_number)}},
                    )
                    for index, step in enumerate((1, 2, 4, 5))
                ]
                payloads = await asyncio.gather(*writes)
                # then every write succeeded (a lost race is retried, not dropped)
                for payload in payloads:
                    assert payload["completeOnboardingStep"]["userErrors"] == []
                # and every step holds this round's data: no write overwrote another
                read = await execute_over_http(client, second, token, PROGRESS)
                progress = read["onboardingProgress"]
                steps = progress["steps"]
                assert (
                    steps[0]["data"]["apiKeys"]["gemini"]
                    == "••••" + (_data_for(1, round_number)["apiKeys"]["gemini"][-4:])
                )
                assert steps[1]["data"] == _data_for(2, round_number)
                assert steps[3]["data"] == _data_for(4, round_number)
                assert steps[4]["data"] == _data_for(5, round_number)
                assert progress["currentStep"] == 6
    # and the version moved once per write: each landed, in some serial order
    assert await _version(postgres_database_url) == start_version + 4 * ROUNDS
