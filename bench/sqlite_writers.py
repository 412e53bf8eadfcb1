"""SQLite written by two service processes at once: how long 2 x 30 concurrent writers wait.

    .venv/bin/python -m bench.sqlite_writers [--processes 2 --writers-per-process 30 --writes 10]

Starts `--processes` single-worker services on one fresh SQLite file, then runs
writers-per-process concurrent clients against each, each client its own user,
each sending `--writes` step-1 mutations one after the other. Separate ports
rather than `serve --workers 2`: the kernel spreads connections over the workers
of one socket unevenly (one run gave one worker 549 of 600 writes), and the
question is how the writers of two processes share SQLite's one write lock.
Prints the latency percentiles, the slowest write and every failure (there should
be none). Absolute times depend on the machine: the line ends with its load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from auth import DevIssuer
from bench.run import COMPLETE_STEP, STEP_ONE, VENV_BIN
from tests.support.server_process import clean_environment, free_port, running


async def _writer(client: httpx.AsyncClient, token: str, writes: int) -> list[float | str]:
    """Each write's latency in seconds, or what went wrong."""
    outcomes: list[float | str] = []
    body = {"query": COMPLETE_STEP, "variables": {"input": {"step": 1, "data": STEP_ONE}}}
    headers = {"authorization": f"Bearer {token}"}
    for _ in range(writes):
        started = time.monotonic()
        try:
            response = await client.post("/graphql", json=body, headers=headers)
        except httpx.TransportError as error:
            outcomes.append(type(error).__name__)
            continue
        answer = response.json()
        errors = answer.get("errors") or answer["data"]["completeOnboardingStep"]["userErrors"]
        if response.status_code != 200 or errors:
            outcomes.append(f"{response.status_code} {errors}")
        else:
            outcomes.append(time.monotonic() - started)
    return outcomes


async def _drive(base_urls: list[str], tokens: list[str], writes: int) -> list[float | str]:
    limits = httpx.Limits(max_connections=len(tokens))
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits)
            )
            for base_url in base_urls
        ]
        results = await asyncio.gather(
            *(
                _writer(clients[number % len(clients)], token, writes)
                for number, token in enumerate(tokens)
            )
        )
    return [outcome for result in results for outcome in result]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--writers-per-process", type=int, default=30)
    parser.add_argument("--writes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-writers-") as directory:
        data_dir = Path(directory)
        issuer = DevIssuer.load_or_create(data_dir)
        writers = args.processes * args.writers_per_process
        tokens = [issuer.mint(f"writer-{number}") for number in range(writers)]
        environment = clean_environment({"ONBOARDING_DATA_DIR": str(data_dir)})
        with contextlib.ExitStack() as services:
            base_urls = []
            for _ in range(args.processes):
                port = free_port()
                base_urls.append(f"http://127.0.0.1:{port}")
                command = [str(VENV_BIN / "onboarding-api"), "serve", "--port", str(port)]
                services.enter_context(
                    running(
                        [*command, "--no-access-log"],
                        env=environment,
                        health_url=f"{base_urls[-1]}/healthz",
                        stdout=data_dir / f"serve-{port}.stdout",
                        stderr=data_dir / f"serve-{port}.stderr",
                    )
                )
            outcomes = asyncio.run(_drive(base_urls, tokens, args.writes))
    latencies = sorted(outcome for outcome in outcomes if isinstance(outcome, float))
    failures = [outcome for outcome in outcomes if isinstance(outcome, str)]
    print(
        f"{args.processes} processes x {args.writers_per_process} writers x {args.writes} writes:"
        f" {len(latencies)} ok, {len(failures)} failed;"
        f" mean {statistics.fmean(latencies):.3f} s, p50 {statistics.median(latencies):.3f} s,"
        f" p99 {_percentile(latencies, 0.99):.3f} s,"
        f" max {latencies[-1]:.3f} s"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    for failure in sorted(set(failures)):
        print(f"  failed x {failures.count(failure)}: {failure[:200]}")


if __name__ == "__main__":
    main()
