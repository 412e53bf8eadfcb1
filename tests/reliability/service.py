"""`onboarding-api serve` as a real process whose signals, exit and stderr a test controls."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server_process import CLI, free_port


@dataclass
class Service:
    base_url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr_path.read_text().splitlines() if line.strip()]

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)


@contextmanager
def service(cwd: Path, env: Mapping[str, str]) -> Iterator[Service]:
    """Start the service, wait for /healthz, yield it; SIGTERM (then kill) on the way out."""
    port = free_port()
    stderr_path = cwd / f"serve-{port}.stderr"
    with (cwd / f"serve-{port}.stdout").open("w") as out, stderr_path.open("w") as err:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], cwd=cwd, env=dict(env), stdout=out, stderr=err
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
