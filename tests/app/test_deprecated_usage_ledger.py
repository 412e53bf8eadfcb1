"""Deprecated usage in the database: batched off the request path, added up across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from app.runtime import Runtime
from app.settings import Settings
from db.deprecated_usage_repository import deprecated_usage_since
from db.engine import create_engine, read_transaction
from db.records import DeprecatedUsageSummary
from tests.support.app import http_client_for, running_app
from tests.support.graphql import GraphQLClient
from tests.support.statements import counted_statements

LEGACY = 'query Legacy { onboardingProgress(sessionId: "s-1") { currentStep } }'
COORDINATE = "Query.onboardingProgress(sessionId:)"
LEGACY_CLIENT = {"apollographql-client-name": "web-legacy"}


async def _stored(database_url: str) -> dict[tuple[str, str], DeprecatedUsageSummary]:
    engine = create_engine(database_url)
    try:
        async with read_transaction(engine) as connection:
            yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
            summaries = await deprecated_usage_since(connection, yesterday)
    finally:
        await engine.dispose()
    return {(summary.coordinate, summary.client): summary for summary in summaries}


def _runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def test_uses_are_written_once_per_flush_never_per_request(
    graphql: GraphQLClient, app: FastAPI, settings: Settings
) -> None:
    # given ten requests of an old client, and one of an anonymous caller
    with counted_statements(app) as statements:
        for _ in range(10):
            await graphql.post(LEGACY, headers=LEGACY_CLIENT)
        await graphql.as_user(None).post(LEGACY, headers={"apollographql-client-name": "bot"})
    # then none of them wrote usage on the request's path
    assert not [statement for statement in statements if "deprecated_usage" in statement]
    # when the ledger flushes
    with counted_statements(app) as statements:
        await _runtime(app).deprecations.ledger.flush()
    # then one statement wrote the verified uses, per coordinate and client
    assert len([statement for statement in statements if "deprecated_usage" in statement]) == 1
    stored = await _stored(settings.resolved_database_url)
    assert set(stored) == {(COORDINATE, "web-legacy")}
    assert stored[COORDINATE, "web-legacy"].uses == 10


async def test_replicas_add_their_counts_up(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    # given two replicas of the service on one database
    async with running_app(settings) as first, running_app(settings) as second:
        for app, uses in ((first, 3), (second, 4)):
            async with http_client_for(app) as http:
                client = GraphQLClient(http, token_for, "user-a")
                for _ in range(uses):
                    await client.post(LEGACY, headers=LEGACY_CLIENT)
        # when both flush, each its own count of the same coordinate, client and day
        await _runtime(first).deprecations.ledger.flush()
        await _runtime(second).deprecations.ledger.flush()
        # then the database holds the sum, not the last writer's count
        stored = await _stored(settings.resolved_database_url)
        assert stored[COORDINATE, "web-legacy"].uses == 7


async def test_uses_are_flushed_periodically_and_when_the_app_stops(
    settings: Settings, token_for: Callable[[str], str]
) -> None:
    configured = settings.model_copy(update={"deprecated_usage_flush_seconds": 0.2})
    async with running_app(configured) as app, http_client_for(app) as http:
        client = GraphQLClient(http, token_for, "user-a")
        # given one use
        await client.post(LEGACY, headers=LEGACY_CLIENT)
        # then it reaches the database with no one asking
        async with asyncio.timeout(30):
            while True:
                if (COORDINATE, "web-legacy") in await _stored(settings.resolved_database_url):
                    break
                await asyncio.sleep(0.1)
        # and a later use, made just before the app stops,
        await client.post(LEGACY, headers=LEGACY_CLIENT)
    # is written on the way out
    stored = await _stored(settings.resolved_database_url)
    assert stored[COORDINATE, "web-legacy"].uses == 2


async def test_a_flush_that_fails_keeps_its_uses_for_the_next(
    app: FastAPI, graphql: GraphQLClient, settings: Settings
) -> None:
    # given two uses counted in memory
    ledger = _runtime(app).deprecations.ledger
    await graphql.post(LEGACY, headers=LEGACY_CLIENT)
    await graphql.post(LEGACY, headers=LEGACY_CLIENT)
    assert ledger.pending_uses == 2
    # when a flush finds no database where it looks
    engine = ledger.engine
    ledger.engine = create_engine("sqlite+aiosqlite:////nonexistent/dir/db.sqlite3")
    try:
        with pytest.raises(OperationalError):
            await ledger.flush()
        # then the uses wait for the next flush
        assert ledger.pending_uses == 2
    finally:
        await ledger.engine.dispose()
        ledger.engine = engine
    await ledger.flush()
    assert ledger.pending_uses == 0
    stored = await _stored(settings.resolved_database_url)
    assert stored[COORDINATE, "web-legacy"].uses == 2
