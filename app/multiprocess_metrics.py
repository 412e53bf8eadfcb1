"""prometheus_client's multiprocess mode, as `serve` runs it.

Each worker writes its samples to memory-mapped files named after its pid in
one directory (`PROMETHEUS_MULTIPROC_DIR`); a scrape of any worker adds up
every file, so each scrape reads the service's total. The files of a worker
that died stay: their counts are part of that total, so no counter goes
backwards when a worker is replaced. Only a dead worker's `live*` gauges are
removed (`mark_process_dead`): they describe a process that no longer exists.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead

logger = logging.getLogger(__name__)

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILES = "gauge_live*_*.db"


@contextmanager
def multiprocess_metrics(configured: Path | None) -> Iterator[Path]:
    """A fresh directory for the samples of the workers `serve` starts, while they run.

    `configured` (ONBOARDING_METRICS_DIR, e.g. on a tmpfs) is emptied of earlier
    runs' files; without it a private temporary directory is made and removed
    when the supervisor returns. Workers find it in the environment they inherit.
    """
    if configured is None:
        directory = Path(tempfile.mkdtemp(prefix="onboarding-metrics-"))
    else:
        directory = configured
        directory.mkdir(parents=True, exist_ok=True)
        # Only the library's own files: the directory may have been set carelessly.
        for stale in directory.glob("*.db"):
            stale.unlink()
    # Workers are new processes (spawned): prometheus_client, when they import
    # it, finds the directory here and writes to it.
    earlier = os.environ.get(DIRECTORY_VARIABLE)
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    logger.info("metrics of every worker are kept in %s", directory)
    try:
        yield directory
    finally:
        # Apps this process builds afterwards count alone again.
        if earlier is None:
            os.environ.pop(DIRECTORY_VARIABLE, None)
        else:
            os.environ[DIRECTORY_VARIABLE] = earlier
        if configured is None:
            shutil.rmtree(directory, ignore_errors=True)


def multiprocess_directory() -> Path | None:
    """The directory this process writes its samples to, when it is one of several."""
    value = os.environ.get(DIRECTORY_VARIABLE)
    return Path(value) if value else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def forget_dead_workers(directory: Path) -> list[int]:
    """Mark dead every worker whose live gauges remain (one killed, say); their pids."""
    dead = []
    for path in directory.glob(_LIVE_GAUGE_FILES):
        pid_text = path.stem.rpartition("_")[2]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            mark_process_dead(int(pid_text), str(directory))  # type: ignore[no-untyped-call]
            dead.append(int(pid_text))
    return sorted(set(dead))


def leave(directory: Path) -> None:
    """This worker is stopping: its live gauges go, its counts stay."""
    mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]
