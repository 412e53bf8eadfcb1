"""A user's progress holding every kind of value a step stores, for comparing two paths."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from db.engine import Transaction
from db.progress_repository import create_progress, get_progress, save_progress
from db.records import StepStatus

STARTED = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def store_progress_with_data(connection: Transaction, user_id: str) -> None:
    """A new progress, then step 1 completed with JSON, bytes, a list and a time, and
    step 2 skipped: one transaction that inserts, reads, and updates two steps at once."""
    await create_progress(connection, user_id, range(1, 7), STARTED)
    before = await get_progress(connection, user_id)
    assert before is not None
    steps = list(before.steps)
    steps[0] = replace(
        steps[0],
        status=StepStatus.COMPLETED,
        data={"apiKeys": {"gemini": "••••1234"}, "note": "ünïcode ✓", "n": [1, 2.5, None]},
        encrypted_secrets=b"\x00sealed\xff",
        validation_errors=("first", "second"),
        completed_at=STARTED + timedelta(minutes=1),
    )
    steps[1] = replace(steps[1], status=StepStatus.SKIPPED, updated_at=STARTED)
    await save_progress(connection, before, replace(before, steps=tuple(steps)))
