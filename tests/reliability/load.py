"""A small closed-loop load of onboarding reads and writes, each answer kept with its timing."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA


@dataclass(frozen=True)
class Answer:
    started: float
    finished: float
    status: int | None  # None: no HTTP answer at all (refused, reset, timed out)
    codes: tuple[str, ...]  # the GraphQL errors' extensions.code

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.codes

    @property
    def unavailable(self) -> bool:
        return self.status == 503 and set(self.codes) == {"SERVICE_UNAVAILABLE"}


@dataclass
class Load:
    base_url: str
    token: str
    workers: int = 8
    answers: list[Answer] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _one(self, client: httpx.AsyncClient, query: str, variables: Any) -> Answer:
        started = time.monotonic()
        try:
            response = await client.post(
                f"{self.base_url}/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {self.token}"},
            )
        except httpx.TransportError:
            return Answer(started, time.monotonic(), None, ())
        errors = response.json().get("errors") or []
        codes = tuple(str((error.get("extensions") or {}).get("code")) for error in errors)
        return Answer(started, time.monotonic(), response.status_code, codes)

    async def _worker(self, client: httpx.AsyncClient, number: int) -> None:
        write = {"input": {"step": 1, "data": STEP_DATA[1]}}
        turn = number
        while not self._stopping.is_set():
            turn += 1
            query, variables = (PROGRESS, {}) if turn % 2 else (COMPLETE_STEP, write)
            self.answers.append(await self._one(client, query, variables))
            await asyncio.sleep(0.02)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(self._worker(client, n) for n in range(self.workers)))

    def stop(self) -> None:
        self._stopping.set()

    def started_between(self, start: float, end: float) -> list[Answer]:
        return [answer for answer in self.answers if start <= answer.started < end]
