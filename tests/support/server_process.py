"""`onboarding-api serve` as a real process, the way the README starts it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
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


def run_cli(*args: str, cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [CLI, *args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
    stderr_path = cwd / f"serve-{port}.stderr"
    with (cwd / f"serve-{port}.stdout").open("w") as out, stderr_path.open("w") as err:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--workers", str(workers)],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=err,
        )
        running = Service(f"http://127.0.0.1:{port}", process, stderr_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, stderr_path.read_text()
                try:
                    if httpx.get(f"{running.base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the service did not start within 60 s"
                time.sleep(0.1)
            yield running
        finally:
            if process.poll() is None:
                running.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def serve(cwd: Path, env: Mapping[str, str], *, workers: int = 1) -> Iterator[str]:
    """Start the service the way the README does; yield its base URL."""
    with service(cwd, env, workers=workers) as running:
        yield running.base_url
