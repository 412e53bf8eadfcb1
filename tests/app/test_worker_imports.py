"""What a worker of `serve --workers N` imports before it can answer the supervisor.

uvicorn starts each worker with multiprocessing's "spawn": the new interpreter
imports the console script's module (`app.cli`) and only then starts the thread
that answers the supervisor's health check. Whatever `app.cli` imports is paid
in CPU before that first answer, on every worker replacement.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Heavy, and needed by no worker before it answers (or at all, for Alembic).
NOT_BEFORE_THE_FIRST_ANSWER = (
    "alembic",
    "schema",
    "strawberry",
    "fastapi",
    "sqlalchemy",
    "app.settings",
)


def _imported_by(statement: str) -> set[str]:
    program = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def _packages(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {name for name in names if any(m == name or m.startswith(f"{name}.") for m in modules)}


def test_the_console_script_module_imports_nothing_a_starting_worker_does_not_need() -> None:
    # when a fresh interpreter imports what a spawned worker imports first
    modules = _imported_by("import app.cli")
    # then neither the app, its schema, its database layer nor Alembic is among it
    assert _packages(modules, NOT_BEFORE_THE_FIRST_ANSWER) == set()


def test_a_serving_worker_never_imports_the_migration_tooling() -> None:
    # when a worker has imported everything it serves with
    modules = _imported_by("import app.cli, app.factory")
    # then Alembic (only `migrate` and `serve`'s parent need it) is not loaded
    assert _packages(modules, ("alembic",)) == set()
