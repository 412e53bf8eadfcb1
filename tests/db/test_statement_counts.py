"""SQL statements per request: a stable measure of the hot paths (issue 6), not a timing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA

MAX_STATEMENTS_PER_PROGRESS_READ = 2


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    """Statements run by the current task (the in-process request), not by background work."""
    engine = app.state.runtime.services.engine.sync_engine
    statements: list[str] = []
    requester = asyncio.current_task()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The job sweep runs in its own task on the same engine.
        if asyncio.current_task() is requester:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_reading_progress_with_steps_costs_at_most_two_statements(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given a user with some progress
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # when they read their progress with all steps
    with counted_statements(app) as statements:
        data = await graphql.execute(PROGRESS)
    # then it took at most two statements
    assert data["onboardingProgress"]["currentStep"] == 2
    assert len(statements) <= MAX_STATEMENTS_PER_PROGRESS_READ, statements


async def test_viewer_onboarding_costs_the_same(graphql: GraphQLClient, app: FastAPI) -> None:
    await graphql.execute(PROGRESS)
    with counted_statements(app) as statements:
        await graphql.execute("{ viewer { id onboarding { currentStep steps { status } } } }")
    assert len(statements) <= MAX_STATEMENTS_PER_PROGRESS_READ, statements
