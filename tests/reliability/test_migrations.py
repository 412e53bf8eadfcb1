"""Every migration downgrades and upgrades again cleanly; `migrate` is idempotent and
serialised: replicas starting together on an empty database all succeed."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from auth import DevIssuer
from db.engine import create_engine
from db.migrate import alembic_config, downgrade, upgrade
from db.models import metadata
from tests.support.server_process import (
    CLI,
    clean_environment,
    free_port,
    run_cli,
    stop,
    wait_until_answering,
)


def _revisions(url: str) -> list[tuple[str, str]]:
    """(revision, the one before it or "base"), oldest first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [
        (r.revision, str(r.down_revision or "base"))
        for r in reversed(list(script.walk_revisions()))
    ]


def _inspect(connection: Connection) -> dict[str, Any]:
    """The schema as plain data, its difference from db/models.py, and the revision."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    inspector = inspect(connection)
    tables = {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"] or "", tuple(map(str, i["column_names"])), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
        for table in sorted(inspector.get_table_names())
    }
    return {
        "diff": [repr(difference) for difference in compare_metadata(context, metadata)],
        "tables": tables,
        "revision": context.get_current_revision(),
    }


def _state(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_inspect)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_every_migration_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    revisions = _revisions(empty_database_url)
    assert len(revisions) >= 2
    for revision, previous in revisions:
        # given the database at `revision`
        upgrade(empty_database_url, revision)
        at_revision = _state(empty_database_url)
        assert at_revision["revision"] == revision
        # when it is taken back one step and forward again
        downgrade(empty_database_url, previous)
        assert _state(empty_database_url)["revision"] == (None if previous == "base" else previous)
        upgrade(empty_database_url, revision)
        # then it is exactly as it was
        assert _state(empty_database_url) == at_revision
    # and at the head the schema is the models', with no difference at all
    head = _state(empty_database_url)
    assert head["diff"] == []
    # and a downgrade to nothing leaves nothing but Alembic's own table
    downgrade(empty_database_url, "base")
    assert list(_state(empty_database_url)["tables"]) == ["alembic_version"]
    upgrade(empty_database_url)
    assert _state(empty_database_url) == head


def test_migrate_is_idempotent(empty_database_url: str, tmp_path: Path) -> None:
    environment = clean_environment(
        {"ONBOARDING_DATABASE_URL": empty_database_url, "ONBOARDING_DATA_DIR": str(tmp_path)}
    )
    # given a database `onboarding-api migrate` brought up to date
    run_cli("migrate", cwd=tmp_path, env=environment)
    migrated = _state(empty_database_url)
    assert migrated["diff"] == []
    # when it runs again, twice / then it succeeds and changes nothing
    run_cli("migrate", cwd=tmp_path, env=environment)
    run_cli("migrate", cwd=tmp_path, env=environment)
    assert _state(empty_database_url) == migrated


CONCURRENT_MIGRATES = 15
CONCURRENT_SERVES = 5
START_LIMIT_SECONDS = 180  # twenty Python processes starting at once on a small machine


def test_twenty_concurrent_starts_on_an_empty_database_all_succeed(
    empty_database_url: str, tmp_path: Path
) -> None:
    # given an empty database, and the dev issuer's keys made once (as `serve` does)
    environment = clean_environment(
        {"ONBOARDING_DATABASE_URL": empty_database_url, "ONBOARDING_DATA_DIR": str(tmp_path)}
    )
    DevIssuer.load_or_create(tmp_path)
    # when twenty replicas start at once: `migrate` jobs and `serve` processes
    migrates = [
        subprocess.Popen(
            [CLI, "migrate"], cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
        )
        for _ in range(CONCURRENT_MIGRATES)
    ]
    serves: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    for _ in range(CONCURRENT_SERVES):
        port = free_port()
        stderr_path = tmp_path / f"serve-{port}.stderr"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                [CLI, "serve", "--port", str(port), "--no-access-log"],
                cwd=tmp_path,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        serves.append((f"http://127.0.0.1:{port}", process, stderr_path))
    try:
        # then every `migrate` succeeds
        failures = [
            stderr
            for process in migrates
            for _, stderr in [process.communicate(timeout=START_LIMIT_SECONDS)]
            if process.returncode != 0
        ]
        assert failures == []
        # and every `serve` comes up ready
        deadline = time.monotonic() + START_LIMIT_SECONDS
        for base_url, process, stderr_path in serves:
            wait_until_answering(
                process, f"{base_url}/readyz", output=stderr_path.read_text, deadline=deadline
            )
    finally:
        for process in migrates:
            if process.poll() is None:
                process.kill()
                process.communicate()
        stop(*(process for _, process, _ in serves))
    # and the database is at the newest revision, exactly the models' schema
    state = _state(empty_database_url)
    assert state["revision"] == _revisions(empty_database_url)[-1][0]
    assert state["diff"] == []
