"""Query analysis works in proportion to the document, never to what its fragments expand to.

Counted, not timed: the fragments the walker measures and the selections it
looks at; for a whole request, the Python calls it makes (parsing, graphql-core's
validation, our limits, execution, deprecated-usage counting). A 1.6 KB document
that expands to 2^40 selections is refused after a bounded walk, and a served
process keeps answering `/healthz` while it refuses a stream of them.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from app.settings import Settings
from schema.extensions.selection_walk import Maxima, SelectionWalker, Walk, fragments_by_name
from tests.support.app import serving
from tests.support.hostile_documents import fragment_doubling
from tests.support.server_process import clean_environment, service

DEFAULT_LIMITS = Maxima(depth=12, aliases=30, selections=10_000)
NO_LIMITS = Maxima()


@pytest.fixture
def database_url(sqlite_only_database_url: str) -> str:
    return sqlite_only_database_url


def walk(document: str, maxima: Maxima) -> Walk:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return SelectionWalker(fragments_by_name(parsed), maxima).walk(operation)


@contextmanager
def counting_python_calls() -> Iterator[list[int]]:
    """How many Python functions this thread calls while inside (one number in the list)."""
    calls = [0]

    def count(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls[0] += 1

    sys.setprofile(count)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def test_each_fragment_is_measured_once_however_often_it_is_spread() -> None:
    # given the doubling document with 20 and with 40 fragments, and no limit to stop at
    twenty = walk(fragment_doubling(20), NO_LIMITS)
    forty = walk(fragment_doubling(40), NO_LIMITS)
    # then each fragment was measured once, and each selection of the text looked at once
    assert (twenty.fragments_measured, forty.fragments_measured) == (21, 41)
    assert (twenty.selections_visited, forty.selections_visited) == (42, 82)
    # and the figures are still those of the expanded operation: 3 x 2^N - 1 selections
    assert twenty.measure.selections == 3 * 2**20 - 1
    assert forty.measure.selections == 3 * 2**40 - 1
    assert forty.complete


def test_the_walk_stops_at_the_first_fragment_past_a_limit() -> None:
    # given the default limits (10,000 selections)
    for fragments in (20, 40, 400):
        result = walk(fragment_doubling(fragments), DEFAULT_LIMITS)
        # then F12 (12,286 selections) ends the walk whatever comes above it
        assert result.passed == ("selections",)
        assert result.fragments_measured == 13
        assert result.measure.selections == 12_286
        assert not result.complete


async def _python_calls_to_answer(client: httpx.AsyncClient, document: str) -> tuple[int, Any]:
    """Python calls to answer `document`, seen for the first time in this process."""
    # Parses, token counts and validations are cached by the document's text: a
    # comment no other request carries makes this one new to every cache.
    unseen = f"# {uuid.uuid4()}\n{document}"
    with counting_python_calls() as calls:
        response = await client.post("/graphql", json={"query": unseen})
    return calls[0], response.json()


@pytest.mark.parametrize("selections_limit", [10_000, 10**15], ids=["refused", "executed"])
async def test_a_request_works_in_proportion_to_its_document(
    settings: Settings, selections_limit: int
) -> None:
    # given a service that refuses the doubling document (the default), or one that runs it
    lowered = settings.model_copy(update={"max_recursive_selections": selections_limit})
    async with serving(lowered) as client:
        await client.post("/graphql", json={"query": fragment_doubling(5)})  # warm every cache
        # when the document with 20 and then with 40 fragments is sent
        twenty, twenty_body = await _python_calls_to_answer(client, fragment_doubling(20))
        forty, forty_body = await _python_calls_to_answer(client, fragment_doubling(40))
    assert twenty_body == forty_body
    # then twice the fragments cost less than twice the calls (exponential would be 2^20 times)
    assert forty < 2 * twenty


async def test_a_refused_document_is_validated_no_further(settings: Settings) -> None:
    # given the bomb, and the bomb beside a fragment of 350 copies of one field, which
    # graphql-core's OverlappingFieldsCanBeMerged compares pair by pair (61,000 pairs)
    bomb = fragment_doubling(40)
    crowd = "fragment Crowd on Query { " + "viewer { id } " * 350 + "}\n"
    crowded = crowd + bomb.replace("query { ", "query { ...Crowd ", 1)
    async with serving(settings) as client:
        await client.post("/graphql", json={"query": fragment_doubling(5)})  # warm every cache
        # when each is sent
        alone, alone_body = await _python_calls_to_answer(client, bomb)
        beside, beside_body = await _python_calls_to_answer(client, crowded)
    # then both are refused by the selection limit
    codes = [
        [e["extensions"]["code"] for e in body["errors"]] for body in (alone_body, beside_body)
    ]
    assert codes == [["MAX_RECURSIVE_SELECTIONS_EXCEEDED"]] * 2
    # and the 350 fields cost their parsing (about 5 times the bomb's own calls), not the
    # pairwise comparison (about 80 times): validation ended at the refusal
    assert beside < 10 * alone


async def test_a_served_process_answers_healthz_while_refusing_bombs(tmp_path: Path) -> None:
    # given the service as `onboarding-api serve` runs it, with its default limits
    with service(tmp_path, clean_environment()) as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=60) as client:
            bomb = fragment_doubling(40)
            # when 20 anonymous bombs (POST and GET) and 20 health checks arrive together
            bombs = [
                client.post("/graphql", json={"query": bomb})
                if n % 2
                else client.get("/graphql", params={"query": bomb})
                for n in range(20)
            ]
            checks = [client.get("/healthz") for _ in range(20)]
            answers = await asyncio.gather(*bombs, *checks)
    # then every bomb is refused with the selection limit's code
    for refused in answers[:20]:
        assert [e["extensions"]["code"] for e in refused.json()["errors"]] == [
            "MAX_RECURSIVE_SELECTIONS_EXCEEDED"
        ]
    # and every health check was answered
    assert [check.status_code for check in answers[20:]] == [200] * 20
