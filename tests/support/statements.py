"""Count the SQL statements an app runs: a stable measure of work, where a timing is not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import listen_to_statements

BACKGROUND_TASK_PREFIX = "discovery-job"
"""How `resolvers/discovery_jobs.py` names the tasks it runs beside the requests."""


@contextmanager
def counted_statements(app: FastAPI, *, with_jobs: bool = False) -> Iterator[list[str]]:
    """The statements `app` sends to its database while the block runs.

    Discovery jobs run in tasks of their own on the same engine (the lease
    sweep, the runners); their statements are not the request's, so they are
    left out unless `with_jobs`. Reads sent on the driver directly
    (`db.fast_reads`) count too.
    """
    services = app.state.runtime.services
    statements: list[str] = []

    def sent(statement: str) -> None:
        task = asyncio.current_task()
        if with_jobs or task is None or not task.get_name().startswith(BACKGROUND_TASK_PREFIX):
            statements.append(statement)

    stop_listening = listen_to_statements(services.engine, sent)
    stop_listening_to_reads = services.reads.listen(sent)
    try:
        yield statements
    finally:
        stop_listening_to_reads()
        stop_listening()


@dataclass
class EngineAndDriverStatements:
    """What an engine ran through its execution machinery, and all it told its listeners."""

    through_engine: list[str] = field(default_factory=list)
    told: list[str] = field(default_factory=list)


@contextmanager
def engine_and_driver_statements(engine: AsyncEngine) -> Iterator[EngineAndDriverStatements]:
    """The statements `engine` sends while the block runs, and which of them went through
    SQLAlchemy's execution (its `before_cursor_execute` event) rather than on the driver."""
    seen = EngineAndDriverStatements()

    def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.through_engine.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", sent)
    stop = listen_to_statements(engine, seen.told.append)
    try:
        yield seen
    finally:
        stop()
        event.remove(engine.sync_engine, "before_cursor_execute", sent)
