"""Query analysis works in proportion to the document, never to what its fragments expand to.

Counted, not timed: the fragments the walker measures and the selections it
looks at; for a whole request, the Python calls it makes (parsing, graphql-core's
validation, our limits, execution, deprecated-usage counting). A 1.6 KB document
that expands to 2^40 selections is refused after a bounded walk, and a served
process keeps answering `/healthz` while it refuses a stream of them. The same
holds for a document that repeats one field hundreds of times, which graphql-core
compares pair by pair until its (our) budget is spent.
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
from graphql import (
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    Visitor,
    get_introspection_query,
    parse,
    print_ast,
    specified_rules,
    validate,
    visit,
)

from app.settings import Settings
from schema.build import create_schema
from schema.extensions.limit_overlapping_fields import overlapping_fields_rule
from schema.extensions.selection_walk import Maxima, SelectionWalker, Walk, fragments_by_name
from tests.support.app import serving
from tests.support.hostile_documents import fragment_doubling, repeated_field
from tests.support.server_process import clean_environment, service

DEFAULT_LIMITS = Maxima(depth=12, aliases=30, selections=10_000)
NO_LIMITS = Maxima()
DEFAULT_BUDGET: int = Settings.model_fields["overlapping_fields_budget"].default
GRAPHQL_CORE_BUDGET = 500_000
"""graphql-core's own budget for comparing same-named fields, which we lower."""
CLIENT_DOCUMENTS = sorted(
    Path(__file__).parents[2].joinpath("clients/operations").glob("*.graphql")
)
CLIENT_OPERATIONS = [
    path
    for path in CLIENT_DOCUMENTS
    if any(isinstance(d, OperationDefinitionNode) for d in parse(path.read_text()).definitions)
]
"""The documents that hold operations; the others hold fragments the operations share."""


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


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


def _codes(body: Any) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


async def test_repeated_fields_are_refused_after_bounded_comparisons(settings: Settings) -> None:
    # given the service with its budget for comparing same-named fields
    async with serving(settings) as client:
        await client.post("/graphql", json={"query": repeated_field(5)})  # warm every cache
        # when one field is sent 245 and then 490 times over (1,962 tokens, in every other limit)
        half, half_body = await _python_calls_to_answer(client, repeated_field(245))
        full, full_body = await _python_calls_to_answer(client, repeated_field(490))
    # then both are refused, as too many overlapping fields, with no data
    assert _codes(half_body) == _codes(full_body) == ["TOO_MANY_OVERLAPPING_FIELDS"]
    assert half_body.get("data") is full_body.get("data") is None
    # and twice the fields cost less than twice the calls (their pairs are four times as many)
    assert full < 2 * half
    # given graphql-core's own budget instead / when the 490 copies are sent
    unbounded = settings.model_copy(update={"overlapping_fields_budget": GRAPHQL_CORE_BUDGET})
    async with serving(unbounded) as client:
        await client.post("/graphql", json={"query": repeated_field(5)})
        spent, spent_body = await _python_calls_to_answer(client, repeated_field(490))
    # then they are refused too, but only after ten times the work
    assert _codes(spent_body) == ["TOO_MANY_OVERLAPPING_FIELDS"]
    assert spent > 10 * full


def _validate_within_budget(document: str, budget: int) -> list[str]:
    rules = [
        overlapping_fields_rule(budget) if rule is OverlappingFieldsCanBeMergedRule else rule
        for rule in specified_rules
    ]
    return [error.message for error in validate(create_schema()._schema, parse(document), rules)]


@pytest.mark.parametrize(
    "path", CLIENT_OPERATIONS, ids=[operation.name for operation in CLIENT_OPERATIONS]
)
def test_client_operations_need_none_of_the_budget(path: Path) -> None:
    # given one of our clients' operations, with the shared fragments it spreads, as the
    # client sends it / then it is valid with a budget of 1
    assert _validate_within_budget(_as_sent(path), 1) == []


def _as_sent(path: Path) -> str:
    """The operation's file and the definitions of the fragments it spreads from other files."""
    shared = {
        name: fragment
        for other in CLIENT_DOCUMENTS
        if other != path
        for name, fragment in fragments_by_name(parse(other.read_text())).items()
    }
    document = parse(path.read_text())
    spread = {node.name.value for node in _fragment_spreads(document)}
    needed: dict[str, FragmentDefinitionNode] = {}
    while missing := spread - needed.keys() - fragments_by_name(document).keys():
        for name in missing:
            needed[name] = shared[name]
            spread |= {node.name.value for node in _fragment_spreads(shared[name])}
    return "\n".join([path.read_text(), *(print_ast(fragment) for fragment in needed.values())])


def _fragment_spreads(node: Node) -> list[FragmentSpreadNode]:
    found: list[FragmentSpreadNode] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            found.append(spread)

    visit(node, Spreads())
    return found


def test_introspection_needs_none_of_the_budget() -> None:
    assert _validate_within_budget(get_introspection_query(descriptions=True), 1) == []


def test_forty_fragments_sharing_fields_fit_the_default_budget() -> None:
    # given a page of discoveries whose node spreads 40 components' fragments, each selecting
    # the same four fields (what a client with many components sends): about 18,000 units
    fragments = "\n".join(
        f"fragment Card{n} on CompetitorDiscovery"
        " { id domain competitors { url title } researchSummary { __typename } }"
        for n in range(40)
    )
    spreads = " ".join(f"...Card{n}" for n in range(40))
    page = f"{{ competitorDiscoveries {{ edges {{ node {{ id {spreads} }} }} }} }}\n{fragments}"
    # then it is valid under the default budget
    assert _validate_within_budget(page, DEFAULT_BUDGET) == []
    # and half the default refuses it: the default leaves such pages less than twice the room
    assert _validate_within_budget(page, DEFAULT_BUDGET // 2) != []


async def test_a_served_process_answers_healthz_while_refusing_repeated_fields(
    tmp_path: Path,
) -> None:
    # given the service as `onboarding-api serve` runs it, with its default limits
    with service(tmp_path, clean_environment()) as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=60) as client:
            # when 20 anonymous documents of 490 copies of one field, each new to every cache
            # (POST and GET), and 20 health checks arrive together
            documents = [f"query Copies{n} {repeated_field(490)}" for n in range(20)]
            refusals = [
                client.post("/graphql", json={"query": document})
                if n % 2
                else client.get("/graphql", params={"query": document})
                for n, document in enumerate(documents)
            ]
            checks = [client.get("/healthz") for _ in range(20)]
            answers = await asyncio.gather(*refusals, *checks)
    # then every document is refused as too many overlapping fields
    for refused in answers[:20]:
        assert _codes(refused.json()) == ["TOO_MANY_OVERLAPPING_FIELDS"]
    # and every health check was answered
    assert [check.status_code for check in answers[20:]] == [200] * 20
