"""Two processes, 100 concurrent writers on one user: the history is some serial order.

How the check works. Every accepted change bumps the progress version once and
sets `updatedAt` to a clock read taken after the row was read, so `updatedAt`
grows with the version: sorting the accepted writes by the `updatedAt` of the
progress each one returned gives their commit order. The test replays that
order on a small model of the onboarding rules (DESIGN §4) and checks that

- each accepted write returned exactly the model's state after it (nothing it
  did was lost, nothing another write did was overwritten);
- each write the rules refused (STEP_LOCKED) returned a state of the serial
  history on which the model refuses it too, and each CONFLICT a state of it;
- the final state is the model's state after the last write;
- the version moved once per accepted write, and the user still has exactly
  one progress row and one row per step.

Every answer must be one of: accepted, refused by the rules, or CONFLICT.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from auth import DevIssuer
from db.engine import create_engine
from db.models import onboarding_progress, onboarding_steps
from tests.support.graphql import execute_over_http
from tests.support.onboarding import (
    COMPLETE_STEP,
    PROGRESS,
    RESET_ONBOARDING,
    SKIP_STEP,
    STEP_DATA,
)
from tests.support.server_process import two_services

USER = "racer"
WRITERS_PER_PROCESS = 50
DONE = {"COMPLETED", "SKIPPED"}
Step = tuple[str, str | None]  # status, marker of the data it holds
State = dict[int, Step]


@dataclass(frozen=True)
class Write:
    """One mutation: ("complete", n), ("skip", n) or ("reset", 0), tagged with `marker`."""

    kind: str
    step: int
    marker: str

    def variables(self) -> dict[str, Any]:
        if self.kind == "reset":
            return {"input": {}}
        if self.kind == "skip":
            return {"input": {"step": self.step}}
        data: Any = {
            1: {
                "apiKeys": {
                    **STEP_DATA[1]["apiKeys"],
                    "gemini": f"AIzaSy0123456789abcdef-w{self.marker}",
                }
            },  # type: ignore[index]
            2: {"website": f"https://{self.marker}.example.com"},
            3: STEP_DATA[3],
            4: {"tone": self.marker},
            5: {"marker": self.marker},
        }[self.step]
        return {"input": {"step": self.step, "data": data}}

    @property
    def document(self) -> tuple[str, str]:
        return {
            "complete": (COMPLETE_STEP, "completeOnboardingStep"),
            "skip": (SKIP_STEP, "skipOnboardingStep"),
            "reset": (RESET_ONBOARDING, "resetOnboarding"),
        }[self.kind]

    def refused_on(self, state: State) -> bool:
        """The model of DESIGN §4: a step is locked until every earlier one is done."""
        return self.kind != "reset" and any(state[n][0] not in DONE for n in range(1, self.step))

    def applied_to(self, state: State) -> State:
        if self.kind == "reset":
            return {n: ("PENDING", None) for n in state}
        if self.kind == "skip":
            return {**state, self.step: ("SKIPPED", None)}
        marker = "set" if self.step == 3 else self.marker
        if self.step == 2:
            marker = f"https://{self.marker}.example.com"
        return {**state, self.step: ("COMPLETED", marker)}


def _writes() -> list[Write]:
    cycle: list[tuple[str, int]] = [
        ("complete", 1), ("complete", 2), ("complete", 3), ("complete", 4), ("skip", 4),
        ("complete", 5), ("skip", 5), ("complete", 2), ("complete", 4), ("complete", 5),
    ]  # fmt: skip
    writes = [
        Write(*cycle[i % len(cycle)], marker=f"{i:04d}") for i in range(2 * WRITERS_PER_PROCESS)
    ]
    for i in range(19, len(writes), 20):  # five resets among them
        writes[i] = Write("reset", 0, f"{i:04d}")
    return writes


def _observed(progress: dict[str, Any]) -> tuple[datetime, State]:
    markers: dict[int, Callable[[Any], str]] = {
        1: lambda data: data["apiKeys"]["gemini"][-4:],
        2: lambda data: data["website"],
        3: lambda data: "set",
        4: lambda data: data["tone"],
        5: lambda data: data["marker"],
    }
    state = {
        step["number"]: (
            step["status"],
            markers[step["number"]](step["data"]) if step["data"] is not None else None,
        )
        for step in progress["steps"]
    }
    return datetime.fromisoformat(progress["updatedAt"]), state


async def _rows(database_url: str) -> tuple[int, int, int, int]:
    """The user's progress version, progress rows, step rows and distinct step numbers."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            version = (
                await connection.execute(
                    select(onboarding_progress.c.version).where(
                        onboarding_progress.c.user_id == USER
                    )
                )
            ).scalar_one()
            progress_rows = (
                await connection.execute(
                    select(func.count()).where(onboarding_progress.c.user_id == USER)
                )
            ).scalar_one()
            step_rows, numbers = (
                await connection.execute(
                    select(func.count(), func.count(onboarding_steps.c.number.distinct())).where(
                        onboarding_steps.c.user_id == USER
                    )
                )
            ).one()
            return int(version), int(progress_rows), int(step_rows), int(numbers)
    finally:
        await engine.dispose()


async def test_concurrent_writers_in_two_processes_leave_a_serial_history(
    postgres_database_url: str, tmp_path: Path
) -> None:
    # given two service processes on one PostgreSQL database
    token = DevIssuer.load_or_create(tmp_path).mint(USER)
    writes = _writes()
    limits = httpx.Limits(max_connections=2 * WRITERS_PER_PROCESS + 10)
    with two_services(postgres_database_url, tmp_path) as (first, second):
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            # and a user who has completed steps 1 to 3
            for step in (1, 2, 3):
                variables = {"input": {"step": step, "data": STEP_DATA[step]}}
                await execute_over_http(client, first, token, COMPLETE_STEP, variables)
            start = _observed(
                (await execute_over_http(client, first, token, PROGRESS, {}))["onboardingProgress"]
            )
            start_version = (await _rows(postgres_database_url))[0]

            # when 50 writers on each process change that user's onboarding at once
            answers = await asyncio.gather(
                *(
                    execute_over_http(
                        client, (first, second)[i % 2], token, write.document[0], write.variables()
                    )
                    for i, write in enumerate(writes)
                )
            )
            final = _observed(
                (await execute_over_http(client, second, token, PROGRESS, {}))["onboardingProgress"]
            )

    # then every answer was accepted, refused by the rules, or CONFLICT
    accepted: list[tuple[datetime, State, Write]] = []
    refused: list[tuple[datetime, State, Write]] = []
    conflicted: list[tuple[datetime, State]] = []
    for write, answer in zip(writes, answers, strict=True):
        payload = answer[write.document[1]]
        codes = [error["code"] for error in payload["userErrors"]]
        updated_at, state = _observed(payload["progress"])
        if not codes:
            accepted.append((updated_at, state, write))
        elif codes == ["STEP_LOCKED"]:
            refused.append((updated_at, state, write))
        else:
            assert codes == ["CONFLICT"], codes
            conflicted.append((updated_at, state))
    # and the accepted writes, in commit order, replay on the model to what each returned
    accepted.sort(key=lambda entry: entry[0])
    assert len({entry[0] for entry in accepted}) == len(accepted), "updatedAt must be unique"
    history: dict[datetime, State] = {start[0]: start[1]}
    model = start[1]
    for updated_at, returned, write in accepted:
        assert updated_at > start[0]
        assert not write.refused_on(model), (write, model)
        model = write.applied_to(model)
        assert returned == model, (write, returned, model)
        history[updated_at] = model
    # and each refusal or conflict saw a state of that history, refused there by the model too
    for updated_at, seen, write in refused:
        assert history.get(updated_at) == seen
        assert write.refused_on(seen), (write, seen)
    for updated_at, seen in conflicted:
        assert history.get(updated_at) == seen
    # and the final state is the state after the last write
    assert final == (accepted[-1][0], model)
    # and the version moved once per accepted write; no row was duplicated
    version, progress_rows, step_rows, numbers = await _rows(postgres_database_url)
    assert version - start_version == len(accepted)
    assert (progress_rows, step_rows, numbers) == (1, 6, 6)
    tally = Counter(
        {"accepted": len(accepted), "refused": len(refused), "conflict": len(conflicted)}
    )
    print(f"answers: {dict(tally)}; kinds accepted: {Counter(w.kind for *_, w in accepted)}")
    assert sum(tally.values()) == len(writes)
