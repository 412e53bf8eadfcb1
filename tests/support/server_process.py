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
from pathlib import Path

import httpx

CLI = shutil.which("onboarding-api") or str(Path(sys.executable).with_name("onboarding-api"))


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


@contextmanager
def serve(cwd: Path, env: Mapping[str, str], *, workers: int = 1) -> Iterator[str]:
    """Start the service, wait until /healthz answers, yield its base URL, stop it."""
    port = free_port()
    log = (cwd / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--workers", str(workers)],
        cwd=cwd,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (cwd / f"serve-{port}.log").read_text()
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start within 60 s"
            time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
