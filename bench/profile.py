"""CPU per request in one process, for finding where a request's time goes.

    .venv/bin/python -m bench.profile [--database sqlite|postgresql] [--requests 2000]
                                      [--only NAME] [--cprofile NAME] [--sort tottime]

Builds the service with `create_app` (and the naive REST and ceiling apps) on a
fresh database, seeds a user the way `bench.run` does, then calls each app's
ASGI callable directly, one request after another, and prints the process CPU
time per request (`time.process_time`, so another process's load on the
machine does not count). `--cprofile NAME` profiles that request's loop
instead and prints the top functions. No sockets, no server: what is left is
what the apps themselves cost; `bench.run` measures them behind uvicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvloop
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from app.factory import create_app
from app.settings import Settings
from auth import DevIssuer
from bench.run import (
    COMPLETE_STEP,
    DISCOVER,
    PROGRESS_QUERY,
    PROVIDER_LATENCY_MS,
    ROOT,
    SITE,
    STEP_ONE,
    database,
    graphql_body,
    uvicorn,
)
from tests.support.server_process import free_port, running

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Call:
    """One request shape, sent straight to an app's ASGI callable."""

    app: str
    method: str
    path: str
    body: bytes


def graphql_call(query: str, variables: dict[str, Any] | None = None) -> Call:
    return Call("service", "POST", "/graphql", graphql_body(query, variables).encode())


CALLS: dict[str, Call] = {
    "typename": graphql_call("{ __typename }"),
    "viewer": graphql_call("{ viewer { id } }"),
    "progress": graphql_call(PROGRESS_QUERY),
    "complete step": graphql_call(COMPLETE_STEP, {"input": {"step": 2, "data": {"website": SITE}}}),
    "discovery cache hit": graphql_call(DISCOVER, {"input": {"userUrl": SITE, "numResults": 10}}),
    "new discovery": graphql_call(
        DISCOVER, {"input": {"userUrl": SITE, "numResults": 10, "refresh": True}}
    ),
    "naive REST progress": Call("rest", "GET", "/api/onboarding/progress", b""),
    "naive REST write": Call(
        "rest", "POST", "/api/onboarding/steps/2", b'{"website": "%s"}' % SITE.encode()
    ),
    "ceiling": Call("ceiling", "POST", "/constant", b"{}"),
}


async def call_once(app: ASGIApp, call: Call, token: str) -> tuple[int, bytes]:
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(call.body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": call.method,
        "scheme": "http",
        "path": call.path,
        "raw_path": call.path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": call.body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


WARM_UP_AT_MOST = 200
"""Requests sent before the measured rounds, at most (as many as a round, if fewer)."""


def requests_per_round(name: str, requests: int) -> int:
    """`requests`, but a twentieth for a new discovery: each waits 50 ms for the provider."""
    return max(1, requests // 20) if name == "new discovery" else requests


@dataclass(frozen=True)
class Options:
    names: list[str]
    requests: int
    rounds: int
    cprofile: bool = False
    sort: str = "tottime"
    top: int = 40
    verbose: bool = True


def cpu_per_request(url: str, directory: Path, *, requests: int, rounds: int) -> dict[str, float]:
    """CPU ms per request (the least of `rounds`) of every request shape, on `url`'s database."""
    options = Options(list(CALLS), requests, rounds, verbose=False)
    with fake_provider(directory) as provider_url:
        # The loop uvicorn runs the apps on (its `auto` picks uvloop when installed).
        return uvloop.run(measure(options, url, directory, provider_url))


@contextmanager
def fake_provider(directory: Path) -> Iterator[str]:
    """bench/fake_provider.py (50 ms latency) in a process of its own, logging to `directory`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "BENCH_PROVIDER_LATENCY_MS": str(PROVIDER_LATENCY_MS)}
    with running(
        uvicorn("bench.fake_provider:create_app", port, 1),
        env=environment,
        health_url=base + "/healthz",
        stdout=directory / "fake-provider.stdout",
        stderr=directory / "fake-provider.stderr",
        cwd=ROOT,
    ):
        yield base


async def measure(
    options: Options, url: str, directory: Path, provider_url: str
) -> dict[str, float]:
    issuer = DevIssuer.load_or_create(directory / "data")
    token = issuer.mint(f"profile-{uuid.uuid4().hex[:6]}", ttl=timedelta(hours=2))
    public_pem = directory / "issuer-public.pem"
    public_pem.write_bytes(
        issuer._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = Settings(
        database_url=url,
        data_dir=directory / "data",
        competitor_provider="exa",
        exa_api_key=SecretStr("bench-key"),
        exa_base_url=provider_url,
        discoveries_per_minute=10**9,
        discoveries_running_per_user=10**6,
        discoveries_running_total=10**6,
    )
    with environment(
        {
            "BENCH_DATABASE_URL": url,
            "BENCH_PUBLIC_KEY_PEM_FILE": str(public_pem),
            "BENCH_ISSUER": issuer.issuer,
        }
    ):
        from bench import ceiling, naive_rest

        apps: dict[str, Any] = {
            "service": create_app(settings),
            "rest": naive_rest.create_app(),
            "ceiling": ceiling.create_app(),
        }
    least: dict[str, float] = {}
    async with AsyncExitStack() as stack:
        for application in apps.values():
            await stack.enter_async_context(application.router.lifespan_context(application))
        for step, data in ((1, STEP_ONE), (2, {"website": SITE})):
            seeded = graphql_call(COMPLETE_STEP, {"input": {"step": step, "data": data}})
            status, body = await call_once(apps["service"], seeded, token)
            assert status == 200, body
            assert b'"userErrors":[]' in body.replace(b" ", b""), body
        for name in options.names:
            call = CALLS[name]
            application = apps[call.app]
            status, body = await call_once(application, call, token)
            assert status == 200, (name, status, body[:500])
            assert b'"errors"' not in body, (name, body[:500])
            requests = requests_per_round(name, options.requests)
            for _ in range(min(WARM_UP_AT_MOST, requests)):
                await call_once(application, call, token)
            # CPU of this thread only: a timer of wall time would charge waits to whatever waited.
            profiler = cProfile.Profile(time.thread_time) if options.cprofile else None
            per_request = []
            for _ in range(options.rounds):
                started = time.process_time()
                if profiler is not None:
                    profiler.enable()
                for _ in range(requests):
                    await call_once(application, call, token)
                if profiler is not None:
                    profiler.disable()
                per_request.append((time.process_time() - started) / requests * 1000)
            # The least of several rounds: other processes on the machine only ever add.
            least[name] = min(per_request)
            if options.verbose:
                print(
                    f"{name:24s} {least[name]:7.3f} ms CPU per request"
                    f" (median of {options.rounds} rounds {statistics.median(per_request):.3f})",
                    flush=True,
                )
            if profiler is not None:
                pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.top)
    return least


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=sorted(CALLS))
    parser.add_argument("--cprofile", choices=sorted(CALLS))
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    names = [args.cprofile] if args.cprofile else [args.only] if args.only else list(CALLS)
    options = Options(names, args.requests, args.rounds, bool(args.cprofile), args.sort, args.top)
    with tempfile.TemporaryDirectory(prefix="onboarding-profile-") as scratch:
        directory = Path(scratch)
        with database(args.database, directory) as url, fake_provider(directory) as provider_url:
            # The loop uvicorn runs the apps on (its `auto` picks uvloop when installed).
            uvloop.run(measure(options, url, directory, provider_url))


if __name__ == "__main__":
    main()
