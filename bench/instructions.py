"""Instructions per request, counted by valgrind: a figure the machine's other load cannot move.

    .venv/bin/python -m bench.instructions [--only NAME ...]

CPU time on a shared machine moves with what else runs on it: on one machine
here the same commit's new discovery cost 5.7 ms of CPU per request in one
run and 6.8 ms in the next. valgrind's callgrind counts the instructions a
process executes instead, the same for the same code and inputs, so it tells
two commits apart where a timing cannot (it says nothing about waits, cache
misses or the network; `bench.run` measures those).

Each request shape is run twice under callgrind, each time in a fresh
`bench.profile` process (its own database, the same seeding, the same
warm-up), once with more requests than the other. The difference between the
two counts, over the difference in requests, is the instructions of one
request, with start-up and set-up taken out. Only the service's process is
counted (SQLite runs inside it; the fake provider runs outside valgrind). A
discovery job's own work (the provider call, its finishing transaction) runs
in the request's process and counts.

Slow: every shape costs two service start-ups under valgrind (a minute or two
each). Compare commits by running this from a worktree of each.

SQLite only, for now. On PostgreSQL two differencings of the same commits
disagreed: a new discovery came out at 15.8 and 13.1 M instructions with 200
requests between the runs, and at 8.0 and 3.3 M with 80. Something in those
runs besides the requests changes from one run to the next, and I have not
yet found what.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from bench.profile import CALLS, WARM_UP_AT_MOST, requests_per_round
from bench.run import ROOT

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
DEFAULT_CALLS = ("progress", "naive REST progress", "complete step", "naive REST write")


@dataclass(frozen=True)
class Run:
    """One `bench.profile` process under callgrind."""

    requests: int
    instructions: int


def requests_sent(name: str, requests: int) -> int:
    """How many requests `bench.profile --requests N --rounds 1` sends: a warm-up, one round."""
    per_round = requests_per_round(name, requests)
    return min(WARM_UP_AT_MOST, per_round) + per_round


def ensure_valgrind() -> str:
    found = shutil.which("valgrind")
    if found:
        return found
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
        found = shutil.which("valgrind")
        if found:
            return found
    raise SystemExit("valgrind is needed: apt-get install valgrind")


def counted(valgrind: str, name: str, requests: int) -> Run:
    command = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.profile",
        "--database",
        "sqlite",
        "--only",
        name,
        "--requests",
        str(requests),
        "--rounds",
        "1",
    ]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(finished.stderr)
    if finished.returncode != 0 or found is None:
        raise SystemExit(f"{name}: bench.profile failed under valgrind\n{finished.stderr[-2000:]}")
    return Run(requests_sent(name, requests), int(found.group(1)))


def per_request(fewer: Run, more: Run) -> float:
    return (more.instructions - fewer.instructions) / (more.requests - fewer.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(CALLS),
        help=f"a request shape (repeatable); default: {', '.join(DEFAULT_CALLS)}",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=400,
        help="requests per round of the smaller run; the larger sends three times as many",
    )
    args = parser.parse_args()
    valgrind = ensure_valgrind()
    names = args.only or list(DEFAULT_CALLS)
    print("| request (sqlite) | instructions per request |", flush=True)
    print("|---|---|", flush=True)
    for name in names:
        fewer = counted(valgrind, name, args.requests)
        more = counted(valgrind, name, 3 * args.requests)
        print(f"| {name} | {per_request(fewer, more) / 1e6:.2f} M |", flush=True)


if __name__ == "__main__":
    main()
