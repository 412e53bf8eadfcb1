"""Reading and writing one user's onboarding progress, guarded by its version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from db.conflict_insert import insert_or_ignore
from db.engine import Transaction
from db.fast_reads import Reads
from db.models import onboarding_progress as _progress
from db.models import onboarding_steps as _steps
from db.records import ProgressRecord, StepRecord, StepStatus
from db.rows import from_row


class StaleProgressError(Exception):
    """Another transaction changed the progress since it was read."""


_SELECT_PROGRESS = (
    select(
        _progress.c.user_id,
        _progress.c.version,
        _progress.c.started_at,
        _progress.c.updated_at,
        _progress.c.completed_at,
        _steps.c.number,
        _steps.c.status,
        _steps.c.data,
        _steps.c.encrypted_secrets,
        _steps.c.validation_errors,
        _steps.c.completed_at.label("step_completed_at"),
        _steps.c.updated_at.label("step_updated_at"),
    )
    .select_from(_progress.join(_steps, _steps.c.user_id == _progress.c.user_id))
    .where(_progress.c.user_id == bindparam("user_id"))
    .order_by(_steps.c.number)
)


async def get_progress(connection: Transaction, user_id: str) -> ProgressRecord | None:
    """The user's progress with its steps, in one statement; None if the user has none yet."""
    rows = (await connection.execute(_SELECT_PROGRESS, {"user_id": user_id})).all()
    return _progress_record(rows)


async def read_progress(reads: Reads, user_id: str) -> ProgressRecord | None:
    """As `get_progress`, outside any transaction, on the fastest reads the database allows."""
    return _progress_record(await reads.all(_SELECT_PROGRESS, {"user_id": user_id}))


def _progress_record(rows: Sequence[Any]) -> ProgressRecord | None:
    if not rows:
        return None
    return from_row(
        ProgressRecord,
        rows[0],
        steps=tuple(
            from_row(
                StepRecord,
                row,
                status=StepStatus(row.status),
                validation_errors=tuple(row.validation_errors),
                # Labelled apart from the progress's own times in the same row.
                completed_at=row.step_completed_at,
                updated_at=row.step_updated_at,
            )
            for row in rows
        ),
    )


async def create_progress(
    connection: Transaction, user_id: str, step_numbers: Sequence[int], now: datetime
) -> None:
    """Create a fresh progress unless one exists (a concurrent first request may win)."""
    await connection.execute(
        insert_or_ignore(connection.dialect.name, _progress),
        {
            "user_id": user_id,
            "version": 1,
            "started_at": now,
            "updated_at": now,
            "completed_at": None,
        },
    )
    await connection.execute(
        insert_or_ignore(connection.dialect.name, _steps),
        [
            {
                "user_id": user_id,
                "number": number,
                "status": StepStatus.PENDING.value,
                "data": None,
                "encrypted_secrets": None,
                "validation_errors": [],
                "completed_at": None,
                "updated_at": now,
            }
            for number in step_numbers
        ],
    )


# Built once: a statement built per call costs more CPU (construction and its
# cache key) than executing it on SQLite.
_UPDATE_PROGRESS = (
    update(_progress)
    .where(
        _progress.c.user_id == bindparam("b_user_id"),
        _progress.c.version == bindparam("b_version"),
    )
    .values(
        version=bindparam("version"),
        started_at=bindparam("started_at"),
        updated_at=bindparam("updated_at"),
        completed_at=bindparam("completed_at"),
    )
)

_UPDATE_STEP = (
    update(_steps)
    .where(_steps.c.user_id == bindparam("b_user_id"), _steps.c.number == bindparam("b_number"))
    .values(
        status=bindparam("status"),
        data=bindparam("data"),
        encrypted_secrets=bindparam("encrypted_secrets"),
        validation_errors=bindparam("validation_errors"),
        completed_at=bindparam("completed_at"),
        updated_at=bindparam("updated_at"),
    )
)


async def save_progress(
    connection: Transaction, before: ProgressRecord, after: ProgressRecord
) -> None:
    """Write `after` if the stored progress is still `before`; else StaleProgressError.

    The version bump and the step rows go in the caller's transaction, so either
    all of the change lands or none of it.
    """
    result = await connection.execute(
        _UPDATE_PROGRESS,
        {
            "b_user_id": before.user_id,
            "b_version": before.version,
            "version": before.version + 1,
            "started_at": after.started_at,
            "updated_at": after.updated_at,
            "completed_at": after.completed_at,
        },
    )
    if result.rowcount != 1:
        raise StaleProgressError(before.user_id)
    changed = [
        {
            "b_user_id": before.user_id,
            "b_number": new.number,
            "status": new.status.value,
            "data": new.data,
            "encrypted_secrets": new.encrypted_secrets,
            "validation_errors": list(new.validation_errors),
            "completed_at": new.completed_at,
            "updated_at": new.updated_at,
        }
        for old, new in zip(before.steps, after.steps, strict=True)
        if old != new
    ]
    if changed:
        await connection.execute(_UPDATE_STEP, changed)
