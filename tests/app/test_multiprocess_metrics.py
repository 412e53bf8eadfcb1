"""A worker that died: its live gauges go, its counts stay part of the total."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.multiprocess_metrics import forget_dead_workers, multiprocess_metrics


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_a_dead_workers_live_gauges_are_removed_and_its_counts_kept(tmp_path: Path) -> None:
    # given the files of a worker that was killed and of one still running (this process)
    dead, alive = _dead_pid(), os.getpid()
    for pid in (dead, alive):
        for kind in ("counter", "histogram", "gauge_livesum", "gauge_liveall", "gauge_max"):
            (tmp_path / f"{kind}_{pid}.db").write_bytes(b"")
    # when a worker starting up looks for dead ones
    assert forget_dead_workers(tmp_path) == [dead]
    # then only the dead worker's live gauges are gone
    remaining = {path.name for path in tmp_path.iterdir()}
    assert f"gauge_livesum_{dead}.db" not in remaining
    assert f"gauge_liveall_{dead}.db" not in remaining
    for kept in ("counter", "histogram", "gauge_max"):
        assert f"{kept}_{dead}.db" in remaining
    assert len([name for name in remaining if name.endswith(f"_{alive}.db")]) == 5


def test_a_configured_directory_starts_empty_of_earlier_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    # given the files of an earlier run, and something else an operator keeps there
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "README").write_text("mine")
    # when serve prepares the directory
    with multiprocess_metrics(tmp_path) as directory:
        # then the old samples are gone, the rest is left, and workers are told where it is
        assert directory == tmp_path
        assert sorted(path.name for path in tmp_path.iterdir()) == ["README"]
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    # and once serve is done, apps built in this process count alone again
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
