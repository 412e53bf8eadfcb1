"""SQL statements per request: a stable measure of the hot paths, not a timing."""

from __future__ import annotations

import re

from fastapi import FastAPI

from tests.support.discovery import DISCOVER_JOB, discover, discovered
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA
from tests.support.statements import counted_statements

MAX_STATEMENTS_PER_PROGRESS_READ = 2

PROGRESS_EVERYWHERE = """
query Everywhere($step: ID!) {
  first: onboardingProgress { id currentStep }
  second: onboardingProgress { completionPercentage steps { status } }
  third: onboardingStep(number: 2) { id status }
  viewer { onboarding { id isCompleted } }
  node(id: $step) { id ... on OnboardingStep { status } }
}
"""


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


async def test_progress_read_through_every_field_at_once_costs_one_statement(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given a user with some progress, and the id of one of their steps
    completed = await graphql.execute(
        COMPLETE_STEP.replace("step { number", "step { id number"),
        {"input": {"step": 1, "data": STEP_DATA[1]}},
    )
    step_id = completed["completeOnboardingStep"]["step"]["id"]
    # when one request reads the progress through three aliases, viewer.onboarding and node
    with counted_statements(app) as statements:
        data = await graphql.execute(PROGRESS_EVERYWHERE, {"step": step_id})
    # then the progress was read once
    assert data["first"]["currentStep"] == 2
    assert data["node"] == {"id": step_id, "status": "COMPLETED"}
    assert data["viewer"]["onboarding"]["id"] == data["first"]["id"]
    assert len(statements) == 1, statements


async def test_nodes_reads_every_discovery_in_one_statement(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    ids = [
        (await discovered(graphql, userUrl=url, numResults=1))["id"]
        for url in ("https://a-shop.example.com", "https://b-shop.example.com")
    ]
    query = "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    with counted_statements(app) as statements:
        data = await graphql.execute(query, {"ids": [*ids, ids[0], "not-an-id"]})
    assert data["nodes"] == [{"id": ids[0]}, {"id": ids[1]}, {"id": ids[0]}, None]
    assert len(statements) == 1, statements


async def test_a_cached_discovery_is_found_in_one_statement(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given a discovery made once
    first = await discover(graphql, industryContext="retail", numResults=3)
    assert first["discovery"]["cached"] is False
    # when the same question is asked again
    with counted_statements(app) as statements:
        again = await discover(graphql, industryContext="retail", numResults=3)
    # then the stored one answers it: one read asks for a job under way or, failing
    # that, the newest identical result
    assert again["discovery"]["cached"] is True
    assert again["discovery"]["id"] == first["discovery"]["id"]
    assert len(statements) == 1, statements


# The statements that change a discovery's row (its job's state lives in it).
_DISCOVERY_WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE) competitor_discoveries\b", re.IGNORECASE)


async def test_a_new_discovery_with_a_free_provider_slot_writes_its_row_twice(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given no discovery running
    # when a new one is asked for, and then its end is awaited
    job = {"input": {"userUrl": "https://www.my-little-shop.com", "numResults": 3}}
    with counted_statements(app, with_jobs=True) as statements:
        started = await graphql.execute(DISCOVER_JOB, {"input": {**job["input"], "wait": False}})
        finished = await graphql.execute(DISCOVER_JOB, job)
    # then it was RUNNING as soon as it was stored, and the same job answered the wait
    first = started["discoverCompetitors"]["discovery"]
    last = finished["discoverCompetitors"]["discovery"]
    assert first["status"] == "RUNNING"
    assert (last["id"], last["status"]) == (first["id"], "COMPLETED")
    # and its row was written once to store it, with its provider slot, and once to finish it
    writes = [statement for statement in statements if _DISCOVERY_WRITE.match(statement)]
    assert len(writes) == 2, writes


async def test_a_request_waiting_on_its_own_processs_job_reads_no_row_after_it_ends(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given no discovery running
    # when a new one is asked for and awaited in one request
    job = {"input": {"userUrl": "https://www.waiting-shop.com", "numResults": 3}}
    with counted_statements(app, with_jobs=True) as statements:
        finished = await graphql.execute(DISCOVER_JOB, job)
    # then it answered COMPLETED, with what the provider found
    discovery = finished["discoverCompetitors"]["discovery"]
    assert discovery["status"] == "COMPLETED"
    assert discovery["competitors"]
    # and the statement that finished the job was the last to touch its row: the
    # request answered with the row that statement returned
    touching = [s for s in statements if "competitor_discoveries" in s]
    assert touching[-1].lstrip().upper().startswith("UPDATE"), touching


async def test_a_new_discovery_is_counted_and_claims_its_slot_in_the_statements_storing_it(
    graphql: GraphQLClient, app: FastAPI
) -> None:
    # given no discovery yet
    # when a new one is asked for
    job = {"input": {"userUrl": "https://www.counted-shop.com", "numResults": 3, "wait": False}}
    with counted_statements(app) as statements:
        started = await graphql.execute(DISCOVER_JOB, job)
    # then it started RUNNING
    assert started["discoverCompetitors"]["discovery"]["status"] == "RUNNING"
    # and its reservation was counted and stored by one statement
    reservations = [s for s in statements if "discovery_reservations" in s]
    assert len(reservations) == 1, reservations
    # and no statement of its own counted the running jobs: the INSERT storing it did
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT COUNT")] == []
    (stored,) = [s for s in statements if _DISCOVERY_WRITE.match(s)]
    assert "count(*)" in stored
