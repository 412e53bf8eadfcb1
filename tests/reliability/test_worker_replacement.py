"""A worker of `serve --workers 2` killed under a CPU-bound load is back within 10 s.

The supervisor (uvicorn's) replaces a dead worker at once, then pings it and
kills it if it does not answer within the health-check timeout. A replacement
that spent its first seconds importing the app before it could answer was
killed in turn, again and again, while the machine was busy; the service ran
on one worker for 21 s. This test kills a worker while the survivor serves a
steady stream of requests and every core is busy: spinning processes top the
machine up to one runnable process per core (on a machine already that busy,
none are added, so the replacement competes with the load and the machine's
own work rather than with an ever larger pile of spinners).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from auth import DevIssuer
from tests.support.onboarding import PROGRESS
from tests.support.server_process import Service, clean_environment, service
from tests.support.waiting import until

SERVING_AGAIN_WITHIN_SECONDS = 10.0
LOAD_CLIENTS = 4


def _workers(supervisor: int) -> set[int]:
    """The supervisor's worker processes (multiprocessing "spawn" children)."""
    workers = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == supervisor and b"spawn_main" in (entry / "cmdline").read_bytes():
                workers.add(int(entry.name))
    return workers


def _log_records(running: Service) -> list[dict[str, object]]:
    records = []
    for line in running.stderr_lines():
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    return records


def _answered_by(running: Service) -> set[int]:
    """The processes that wrote an access-log line, i.e. answered a request."""
    return {
        int(str(record["process"]))
        for record in _log_records(running)
        if record.get("logger") == "uvicorn.access"
    }


@contextlib.contextmanager
def _every_core_busy() -> Iterator[int]:
    """Spin as many processes as there are idle cores (by the 1-minute load average)."""
    idle_cores = max(0, math.ceil((os.cpu_count() or 1) - os.getloadavg()[0]))
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(idle_cores)
    ]
    try:
        yield idle_cores
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


async def _steady_load(base_url: str, token: str, stop: asyncio.Event, seen: Counter[str]) -> None:
    # No keep-alive: each request is a new connection, so the kernel hands
    # requests to whichever worker accepts first, a new one included.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def client_loop() -> None:
            while not stop.is_set():
                try:
                    response = await client.post(
                        f"{base_url}/graphql",
                        json={"query": PROGRESS},
                        headers={"authorization": f"Bearer {token}"},
                    )
                except httpx.TransportError:
                    seen["dropped"] += 1  # in flight on the worker that was killed
                else:
                    seen[str(response.status_code)] += 1

        await asyncio.gather(*(client_loop() for _ in range(LOAD_CLIENTS)))


async def test_a_worker_killed_under_load_is_serving_again_within_10_s(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    # given `serve --workers 2`, both workers answering a steady load
    environment = clean_environment({"ONBOARDING_DATA_DIR": str(tmp_path)})
    token = DevIssuer.load_or_create(tmp_path).mint("steady-user")
    stop = asyncio.Event()
    seen: Counter[str] = Counter()
    with service(tmp_path, environment, workers=2) as running:
        supervisor = running.process.pid
        await asyncio.to_thread(
            httpx.post,
            f"{running.base_url}/graphql",
            json={"query": PROGRESS},
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        loading = asyncio.create_task(_steady_load(running.base_url, token, stop, seen))
        try:
            await until(lambda: len(_workers(supervisor)) == 2, within=60, what="two workers")
            workers = _workers(supervisor)
            await until(
                lambda: workers <= _answered_by(running), within=60, what="both workers serving"
            )
            victim, survivor = sorted(workers)

            with _every_core_busy() as spinners:
                # and every core busy
                await asyncio.sleep(1.0)
                # when one worker is killed outright
                os.kill(victim, signal.SIGKILL)

                # then a new worker answers a request within 10 s
                def new_worker_answered() -> bool:
                    new = _workers(supervisor) - {victim, survivor}
                    return bool(new & _answered_by(running))

                serving_again = await until(
                    new_worker_answered,
                    within=SERVING_AGAIN_WITHIN_SECONDS,
                    what="a new worker serving",
                )
        finally:
            stop.set()
            await loading
        replacements = _workers(supervisor) - {victim, survivor}
        assert running.process.poll() is None
        records = _log_records(running)

    # and the supervisor replaced the killed worker once, and killed no replacement
    died = [str(r["message"]) for r in records if "died" in str(r.get("message", ""))]
    assert died == [f"Child process [{victim}] died"]
    assert len(replacements) == 1
    # and no request was answered with an error; only those in flight on the victim were lost
    assert set(seen) <= {"200", "dropped"}, seen
    assert seen["dropped"] <= LOAD_CLIENTS
    for name, value in {
        "serving_again_after_kill_s": round(serving_again, 3),
        "answers": dict(seen),
        "spinners_added": spinners,
        "load_average_1m": os.getloadavg()[0],
    }.items():
        record_property(name, value)
        print(f"{name}: {value}")


async def test_a_worker_that_dies_during_its_health_check_is_replaced_at_once(
    tmp_path: Path,
) -> None:
    # given `serve --workers 2`, both workers started
    environment = clean_environment({"ONBOARDING_DATA_DIR": str(tmp_path)})
    with service(tmp_path, environment, workers=2) as running:
        supervisor = running.process.pid
        await until(lambda: len(_workers(supervisor)) == 2, within=60, what="two workers")
        victim, survivor = sorted(_workers(supervisor))
        # and one of them stopped, so the supervisor's next health check waits for its
        # answer (up to the 10 s health-check timeout); it checks every 0.5 s
        os.kill(victim, signal.SIGSTOP)
        await asyncio.sleep(1.5)
        # when it is killed while the supervisor waits
        os.kill(victim, signal.SIGKILL)

        # then the supervisor sees it die at once, not when the health check times out
        def victim_died() -> bool:
            return any(
                record.get("message") == f"Child process [{victim}] died"
                for record in _log_records(running)
            )

        await until(victim_died, within=2.0, what="the supervisor seeing the worker die")
        # and a new worker takes its place
        await until(
            lambda: bool(_workers(supervisor) - {victim, survivor}),
            within=2.0,
            what="a replacement worker",
        )
