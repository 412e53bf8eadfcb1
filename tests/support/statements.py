"""Count the SQL statements an app runs: a stable measure of work, where a timing is not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from db.engine import statement_engines

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
    engines = statement_engines(services.engine)
    statements: list[str] = []

    def sent(statement: str) -> None:
        task = asyncio.current_task()
        if with_jobs or task is None or not task.get_name().startswith(BACKGROUND_TASK_PREFIX):
            statements.append(statement)

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    stop_listening = services.reads.listen(sent)
    try:
        yield statements
    finally:
        stop_listening()
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
