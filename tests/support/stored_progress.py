"""A user's progress holding every kind of value a step stores, for comparing two paths."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import (
    Transaction,
    engine_write_transaction,
    read_transaction,
    write_transaction,
)
from db.progress_repository import create_progress, get_progress, save_progress
from db.records import StepStatus
from tests.support.statements import engine_and_driver_statements

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


async def assert_written_on_the_driver(engine: AsyncEngine, user_id: str) -> None:
    """Store `store_progress_with_data` for `user_id`, and check that none of its statements
    went through the engine's execution machinery, and that each was told to those
    listening: the two inserts, the read, the two updates."""
    with engine_and_driver_statements(engine) as statements:
        async with write_transaction(engine) as connection:
            await store_progress_with_data(connection, user_id)
    assert statements.through_engine == []
    assert [sql.split()[0] for sql in statements.told] == [
        "INSERT",
        "INSERT",
        "SELECT",
        "UPDATE",
        "UPDATE",
    ]


async def assert_stored_as_through_engine(engine: AsyncEngine, on_driver: str) -> None:
    """Store `store_progress_with_data` through the engine too, and check that `on_driver`'s
    (written on the driver) reads back alike: JSON, bytes, a list, timestamps, the version."""
    async with engine_write_transaction(engine) as engine_connection:
        await store_progress_with_data(engine_connection, "through-engine")
    async with read_transaction(engine) as reader:
        driver_record = await get_progress(reader, on_driver)
        engine_record = await get_progress(reader, "through-engine")
    assert driver_record is not None
    assert engine_record is not None
    assert driver_record.version == 2
    assert replace(driver_record, user_id="x") == replace(engine_record, user_id="x")
    assert driver_record.steps[0].data == {
        "apiKeys": {"gemini": "••••1234"},
        "note": "ünïcode ✓",
        "n": [1, 2.5, None],
    }
    assert driver_record.steps[0].encrypted_secrets == b"\x00sealed\xff"
