"""Server processes, for the tests and bench/: a free port, start, wait until it answers, stop.

`service` and `serve` run `onboarding-api serve` the way the README starts it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# The console script next to this interpreter: the one `pip install -e .` just made.
_BESIDE_PYTHON = Path(sys.executable).with_name("onboarding-api")
CLI = (
    str(_BESIDE_PYTHON)
    if _BESIDE_PYTHON.exists()
    else shutil.which("onboarding-api") or "onboarding-api"
)


def free_port() -> int:
    """A port nothing listens on at 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any ONBOARDING_ or EXA_ setting, plus `extra`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ONBOARDING_", "EXA_"))
    }
    environment.update(extra or {})
    return environment


def service_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """A clean environment for `onboarding-api` on `database_url`, its files in `data_dir`."""
    return clean_environment(
        {"ONBOARDING_DATABASE_URL": database_url, "ONBOARDING_DATA_DIR": str(data_dir)}
    )


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    output: Callable[[], str],
    deadline: float,
) -> None:
    """Return once GET `url` answers 200; fail with the process's `output` if it ends first,
    or when `time.monotonic()` passes `deadline`."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited:\n{output()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.args!r} did not answer {url} in time")
        time.sleep(0.1)


def stop(*processes: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM to each process still running, then SIGKILL to any still there after `grace`."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    health_url: str,
    stdout: Path,
    stderr: Path,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` (its output to those files), yield it once `health_url` answers 200,
    and stop it on the way out."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=out, stderr=err)
    try:
        wait_until_answering(
            process, health_url, output=stderr.read_text, deadline=time.monotonic() + 60
        )
        yield process
    finally:
        stop(process)


def run_cli(*args: str, cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [CLI, *args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def post_with_dev_token(
    base_url: str,
    body: Mapping[str, object],
    *,
    minted_in: Path,
    env: Mapping[str, str],
    timeout: float = 10,
) -> httpx.Response:
    """POST `body` to /graphql as user u1, with the token `dev-token` mints in `minted_in`.

    The dev issuer's key lives in the data directory under `minted_in`: a token
    minted elsewhere is another issuer's.
    """
    token = run_cli("dev-token", "--sub", "u1", cwd=minted_in, env=env).strip()
    return httpx.post(
        f"{base_url}/graphql",
        json=body,
        headers={"authorization": f"Bearer {token}"},
        timeout=timeout,
    )


@dataclass
class Service:
    """A running `onboarding-api serve` whose signals, exit and stderr a test controls."""

    base_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr_path.read_text().splitlines() if line.strip()]

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)


@contextmanager
def service(cwd: Path, env: Mapping[str, str], *, workers: int = 1) -> Iterator[Service]:
    """Start the service, wait for /healthz, yield it; SIGTERM (then kill) on the way out."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stderr = cwd / f"serve-{port}.stderr"
    with running(
        [CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        health_url=f"{base_url}/healthz",
        stdout=cwd / f"serve-{port}.stdout",
        stderr=stderr,
        cwd=cwd,
    ) as process:
        yield Service(base_url, process, stderr)


@contextmanager
def serve(cwd: Path, env: Mapping[str, str], *, workers: int = 1) -> Iterator[str]:
    """Start the service the way the README does; yield its base URL."""
    with service(cwd, env, workers=workers) as running:
        yield running.base_url


@contextmanager
def two_services(database_url: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    """Two service processes on one database and one data directory (so one dev issuer)."""
    environment = service_environment(database_url, data_dir)
    with serve(data_dir, environment) as first, serve(data_dir, environment) as second:
        yield first, second
