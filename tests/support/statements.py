"""Count the SQL statements an app runs: a stable measure of work, where a timing is not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    """The statements `app` sends to its database while the block runs."""
    engine = app.state.runtime.services.engine.sync_engine
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
