"""One command, one machine, one run: the service against its baselines, as ratios.

    .venv/bin/python -m bench.run [--duration 10] [--databases sqlite,postgresql] [--workers 1,2]

Starts, for each database and worker count: the service (`onboarding-api
serve`), the naive REST reference app (bench/naive_rest.py) and a bare
FastAPI route (bench/ceiling.py), all under uvicorn with access logs off,
plus a fake provider with a fixed 50 ms latency (bench/fake_provider.py).
Drives each with wrk (16 connections, a warm-up, then a fixed duration),
prints a table and writes it, with the machine's description, to
bench/RESULTS.md. Times are only ever compared within this one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import make_url

from auth import DevIssuer
from db.migrate import upgrade
from tests.support.server_process import clean_environment, free_port, running

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PROVIDER_LATENCY_MS = 50
USERS = 200
SITE = "https://acme-shop.com"

PROGRESS_QUERY = (
    "query { onboardingProgress { currentStep completionPercentage isCompleted"
    " steps { number key status required locked data completedAt } } }"
)
COMPLETE_STEP = (
    "mutation($input: CompleteOnboardingStepInput!) { completeOnboardingStep(input: $input)"
    " { step { number status } userErrors { code } } }"
)
DISCOVER = (
    "mutation($input: DiscoverCompetitorsInput!) { discoverCompetitors(input: $input)"
    " { discovery { id cached competitors { url relevanceScore } } userErrors { code message } } }"
)
STEP_ONE = {
    "apiKeys": {
        "gemini": "AIzaSyD-bench-gemini-key-0123456789abc",
        "exa": "3f1c2b8e-9d4a-4c6b-8f2e-1a2b3c4d5e6f",
        "copilotkit": "ck_pub_0123456789abcdef0123456789abcdef",
    }
}


@dataclass(frozen=True)
class Load:
    """What wrk sends: one request shape, cycling through the users' tokens."""

    method: str
    path: str
    body: str | None


@dataclass(frozen=True)
class Measurement:
    scenario: str
    database: str
    workers: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def graphql_load(query: str, variables: Mapping[str, Any] | None = None) -> Load:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return Load("POST", "/graphql", json.dumps(body))


SCENARIOS: dict[str, Load] = {
    "onboardingProgress": graphql_load(PROGRESS_QUERY),
    "naive REST progress": Load("GET", "/api/onboarding/progress", None),
    "ceiling (constant)": Load("POST", "/constant", "{}"),
    "completeOnboardingStep": graphql_load(
        COMPLETE_STEP, {"input": {"step": 2, "data": {"website": SITE}}}
    ),
    "discoverCompetitors (50 ms provider)": graphql_load(
        DISCOVER, {"input": {"userUrl": SITE, "numResults": 10, "refresh": True}}
    ),
    "discovery cache hit": graphql_load(DISCOVER, {"input": {"userUrl": SITE, "numResults": 10}}),
}


# -- processes --------------------------------------------------------------------


def uvicorn(factory: str, port: int, workers: int) -> list[str]:
    return [
        str(VENV_BIN / "uvicorn"),
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


# -- databases --------------------------------------------------------------------


async def _admin(statement: str) -> None:
    dsn = make_url(POSTGRES_SERVER).set(drivername="postgresql")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'bench.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"onboarding_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- load -------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("wrk is needed: apt-get install wrk")


def wrk_script(load: Load, tokens: list[str], directory: Path) -> Path:
    lua_tokens = ",\n".join(json.dumps(token) for token in tokens)
    body = "nil" if load.body is None else json.dumps(load.body)
    script = directory / f"load-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(
        f"""
local tokens = {{ {lua_tokens} }}
local body = {body}
local n = 0
request = function()
  n = n + 1
  local headers = {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
  }}
  return wrk.format("{load.method}", "{load.path}", headers, body)
end
"""
    )
    return script


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _field(pattern: str, output: str) -> str:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{output}")
    return found.group(1)


def run_wrk(
    wrk: str, url: str, script: Path, *, connections: int, duration: int, warmup: int
) -> tuple[float, float, float, int]:
    common = [wrk, "-t2", f"-c{connections}", "-s", str(script), "--latency"]
    subprocess.run([*common, f"-d{warmup}s", url], check=True, capture_output=True)
    output = subprocess.run(
        [*common, f"-d{duration}s", url], check=True, capture_output=True, text=True
    ).stdout
    rate = float(_field(r"Requests/sec:\s+([\d.]+)", output))
    # Anchored: "+/- Stdev" columns such as "68.50%" would match a bare "50%".
    p50 = _milliseconds(_field(r"^\s+50%\s+(\S+)", output))
    p99 = _milliseconds(_field(r"^\s+99%\s+(\S+)", output))
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return rate, p50, p99, errors


# -- the run ----------------------------------------------------------------------


def seed(service: str, tokens: list[str]) -> None:
    """Give every user steps 1-2 and one stored discovery, checking each answer."""
    with httpx.Client(base_url=service, timeout=30) as client:
        for token in tokens:
            headers = {"authorization": f"Bearer {token}"}
            for step, data in ((1, STEP_ONE), (2, {"website": SITE})):
                body = {
                    "query": COMPLETE_STEP,
                    "variables": {"input": {"step": step, "data": data}},
                }
                answer = client.post("/graphql", json=body, headers=headers).json()
                assert answer["data"]["completeOnboardingStep"]["userErrors"] == [], answer
            discovery = json.loads(SCENARIOS["discovery cache hit"].body or "")
            answer = client.post("/graphql", json=discovery, headers=headers).json()
            assert answer["data"]["discoverCompetitors"]["userErrors"] == [], answer


def check_answers(base_url: str, load: Load, token: str) -> None:
    """One request by hand first: a benchmark of error answers measures nothing."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    response = httpx.request(load.method, base_url + load.path, content=load.body, headers=headers)
    assert response.status_code == 200, response.text
    assert '"errors"' not in response.text, response.text
    assert '"code"' not in response.text, response.text


def measure_config(
    kind: str, url: str, workers: int, args: argparse.Namespace, directory: Path, wrk: str
) -> list[Measurement]:
    data_dir = directory / f"data-{kind}"
    issuer = DevIssuer.load_or_create(data_dir)
    tokens = [issuer.mint(f"bench-user-{n}", ttl=timedelta(hours=2)) for n in range(USERS)]
    public_pem = directory / "issuer-public.pem"
    public_pem.write_bytes(
        issuer._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    ports = {name: free_port() for name in ("service", "rest", "ceiling", "provider")}
    with ExitStack() as stack:
        env = clean_environment(
            {
                "ONBOARDING_DATABASE_URL": url,
                "ONBOARDING_DATA_DIR": str(data_dir),
                "ONBOARDING_COMPETITOR_PROVIDER": "exa",
                "EXA_API_KEY": "bench-key",
                "ONBOARDING_EXA_BASE_URL": f"http://127.0.0.1:{ports['provider']}",
                "ONBOARDING_DISCOVERIES_PER_MINUTE": str(10**9),
                # Measure the service, not the cost caps (identical requests still share a job).
                "ONBOARDING_DISCOVERIES_RUNNING_PER_USER": str(10**6),
                "ONBOARDING_DISCOVERIES_RUNNING_TOTAL": str(10**6),
                "BENCH_DATABASE_URL": url,
                "BENCH_PUBLIC_KEY_PEM_FILE": str(public_pem),
                "BENCH_ISSUER": issuer.issuer,
                "BENCH_PROVIDER_LATENCY_MS": str(PROVIDER_LATENCY_MS),
            }
        )
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

        def start(name: str, command: list[str], health_path: str) -> None:
            logs = directory / f"{name}-{workers}"
            stack.enter_context(
                running(
                    command,
                    env=env,
                    health_url=bases[name] + health_path,
                    stdout=logs.with_suffix(".stdout"),
                    stderr=logs.with_suffix(".stderr"),
                    cwd=ROOT,
                )
            )

        start("provider", uvicorn("bench.fake_provider:create_app", ports["provider"], 1), "/docs")
        service_command = [
            str(VENV_BIN / "onboarding-api"),
            "serve",
            "--port",
            str(ports["service"]),
            "--workers",
            str(workers),
            "--no-access-log",
        ]
        start("service", service_command, "/healthz")
        start("rest", uvicorn("bench.naive_rest:create_app", ports["rest"], workers), "/docs")
        start("ceiling", uvicorn("bench.ceiling:create_app", ports["ceiling"], workers), "/docs")
        if workers == args.workers[0]:
            seed(bases["service"], tokens)
        results = []
        for scenario, load in SCENARIOS.items():
            base = {"naive REST progress": bases["rest"], "ceiling (constant)": bases["ceiling"]}
            target = base.get(scenario, bases["service"])
            check_answers(target, load, tokens[0])
            script = wrk_script(load, tokens, directory)
            rate, p50, p99, errors = run_wrk(
                wrk,
                target,
                script,
                connections=args.connections,
                duration=args.duration,
                warmup=args.warmup,
            )
            measurement = Measurement(scenario, kind, workers, rate, p50, p99, errors)
            print(_row(measurement), flush=True)
            results.append(measurement)
        return results


def _row(m: Measurement) -> str:
    return (
        f"| {m.scenario} | {m.database} | {m.workers} | {m.requests_per_second:,.0f}"
        f" | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.errors} |"
    )


def _find(results: list[Measurement], scenario: str, kind: str, workers: int) -> Measurement:
    return next(
        m for m in results if (m.scenario, m.database, m.workers) == (scenario, kind, workers)
    )


def summary(results: list[Measurement], args: argparse.Namespace) -> list[str]:
    lines = [
        "| database | workers | progress / naive REST (req/s) | progress / ceiling (req/s)"
        " | progress p99 ms | discovery p50 above provider, ms | cache hit p50 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in args.databases:
        for workers in args.workers:
            progress = _find(results, "onboardingProgress", kind, workers)
            rest = _find(results, "naive REST progress", kind, workers)
            ceiling = _find(results, "ceiling (constant)", kind, workers)
            discovery = _find(results, "discoverCompetitors (50 ms provider)", kind, workers)
            cache = _find(results, "discovery cache hit", kind, workers)
            lines.append(
                f"| {kind} | {workers}"
                f" | {progress.requests_per_second / rest.requests_per_second:.2f}x"
                f" | {progress.requests_per_second / ceiling.requests_per_second:.0%}"
                f" | {progress.p99_ms:.2f}"
                f" | {discovery.p50_ms - PROVIDER_LATENCY_MS:.2f}"
                f" | {cache.p50_ms:.2f} |"
            )
    if 1 in args.workers and 2 in args.workers:
        lines += ["", "| database | scenario | 2 workers / 1 worker (req/s) |", "|---|---|---|"]
        for kind in args.databases:
            for scenario in ("onboardingProgress", "completeOnboardingStep", "ceiling (constant)"):
                one = _find(results, scenario, kind, 1).requests_per_second
                two = _find(results, scenario, kind, 2).requests_per_second
                lines.append(f"| {kind} | {scenario} | {two / one:.2f}x |")
    return lines


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.*)", cpuinfo.read_text())
        model = found.group(1) if found else model
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())
        memory = f", {int(found.group(1)) / 1024 / 1024:.0f} GiB RAM" if found else ""
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("strawberry-graphql", "graphql-core", "fastapi", "uvicorn", "sqlalchemy")
    )
    return (
        f"{os.cpu_count()} cores ({model}){memory}; {platform.platform()};"
        f" Python {platform.python_version()}; {packages}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    args.databases = args.databases.split(",")
    args.workers = sorted(int(n) for n in args.workers.split(","))
    wrk = ensure_wrk()
    header = [
        "| scenario | database | workers | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(header), flush=True)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="onboarding-bench-") as scratch:
        for kind in args.databases:
            directory = Path(scratch) / kind
            directory.mkdir()
            with database(kind, directory) as url:
                for workers in args.workers:
                    results += measure_config(kind, url, workers, args, directory, wrk)
    ratios = summary(results, args)
    print("\n" + "\n".join(ratios))
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m bench.run " + " ".join(sys.argv[1:])
    args.output.write_text(
        "\n".join(
            [
                "# Benchmark results",
                "",
                f"Measured {started} with `.venv/bin/{command.strip()}`"
                f" ({args.connections} connections, {args.warmup} s warm-up,"
                f" {args.duration} s measured per scenario, wrk -t2).",
                "",
                f"Machine: {machine()}.",
                "",
                "## Ratios (from this one run)",
                "",
                *ratios,
                "",
                "## Every scenario",
                "",
                *header,
                *(_row(m) for m in results),
                "",
            ]
        )
    )


if __name__ == "__main__":
    main()
