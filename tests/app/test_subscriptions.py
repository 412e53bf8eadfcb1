"""Issue 13: subscriptions over graphql-transport-ws at /graphql, on SQLite and PostgreSQL.

Against the app under a real uvicorn, with a client speaking the protocol over
a real WebSocket, and changes made the way a frontend makes them: over HTTP.
Across processes: tests/reliability/test_subscriptions_across_processes.py;
hostile frames: tests/security/test_websocket_input.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from app.settings import Settings
from tests.reliability.metrics_text import sample
from tests.support.discovery import DISCOVER_JOB, EXA_KEY, on_fake_exa
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import execute_over_http
from tests.support.graphql_ws import (
    GraphQLWS,
    graphql_ws,
    signed_in,
    uvicorn_serving,
    websocket_url,
)
from tests.support.jwks_server import SigningKey, mint
from tests.support.onboarding import COMPLETE_STEP, RESET_ONBOARDING, STEP_DATA

Mint = Callable[..., str]

PROGRESS_SUBSCRIPTION = """
subscription Progress {
  onboardingProgress {
    id currentStep completionPercentage steps { number status validationErrors }
  }
}
"""
DISCOVERY_SUBSCRIPTION = """
subscription Discovery($id: ID!) {
  competitorDiscovery(id: $id) { id status failure { code } competitors { domain } }
}
"""


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    with uvicorn_serving(settings) as base_url:
        yield base_url


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def until(condition: Callable[[], bool], *, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.02)


async def start_discovery(
    http: httpx.AsyncClient, base_url: str, token: str, site: str = "https://shop.example.com"
) -> dict[str, Any]:
    variables = {"input": {"userUrl": site, "numResults": 3, "wait": False}}
    data = await execute_over_http(http, base_url, token, DISCOVER_JOB, variables)
    payload = data["discoverCompetitors"]
    assert payload["userErrors"] == [], payload
    discovery: dict[str, Any] = payload["discovery"]
    return discovery


async def statuses_until_complete(client: GraphQLWS, operation_id: str) -> list[dict[str, Any]]:
    """Every discovery a subscription sends, up to its `complete`."""
    seen = []
    while True:
        message = await client.receive()
        assert message["id"] == operation_id, message
        if message["type"] == "complete":
            return seen
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        seen.append(message["payload"]["data"]["competitorDiscovery"])


# -- what a subscriber sees ----------------------------------------------------------


async def test_every_change_of_the_viewers_progress_is_pushed_to_their_subscription(
    served: str, http: httpx.AsyncClient, token_for: Mint
) -> None:
    token = token_for("user-a")
    async with signed_in(served, token) as client:
        # given a subscription to the viewer's progress, answered at once
        await client.subscribe("p", PROGRESS_SUBSCRIPTION)
        first = (await client.next_data("p"))["onboardingProgress"]
        assert first["currentStep"] == 1
        # when step 1 is completed over HTTP (another tab, say)
        variables = {"input": {"step": 1, "data": STEP_DATA[1]}}
        await execute_over_http(http, served, token, COMPLETE_STEP, variables)
        # then the subscriber is told, with the new progress
        second = (await client.next_data("p"))["onboardingProgress"]
        assert second["currentStep"] == 2
        assert second["completionPercentage"] == 16.7
        assert second["id"] == first["id"]
        # and a refused attempt at step 2 is a change too: the step FAILED, and why
        refused = {"input": {"step": 2, "data": {"website": "not a url"}}}
        await execute_over_http(http, served, token, COMPLETE_STEP, refused)
        third = (await client.next_data("p"))["onboardingProgress"]
        assert third["steps"][1]["status"] == "FAILED"
        assert third["steps"][1]["validationErrors"]
        # and another user's changes are never pushed to this viewer
        other = token_for("user-b")
        await execute_over_http(http, served, other, COMPLETE_STEP, variables)
        await execute_over_http(http, served, token, RESET_ONBOARDING, {"input": {}})
        fourth = (await client.next_data("p"))["onboardingProgress"]
        assert fourth["currentStep"] == 1
        assert fourth["id"] == first["id"]


@dataclass
class GatedExa:
    """The app on a fake Exa that holds every answer back until `gate` is set."""

    base_url: str
    fake: FakeExa
    gate: threading.Event


@pytest.fixture
def gated_exa(settings: Settings) -> Iterator[GatedExa]:
    gate = threading.Event()
    with run_fake_exa(FakeExaConfig(api_key=EXA_KEY, gate=gate)) as fake:
        exa_settings = on_fake_exa(settings, fake, provider_timeout_seconds=20)
        with uvicorn_serving(exa_settings) as base_url:
            yield GatedExa(base_url, fake, gate)
            gate.set()  # let the fake's held requests go before the app stops


async def test_a_discovery_is_followed_from_running_to_completed_then_the_subscription_ends(
    gated_exa: GatedExa, http: httpx.AsyncClient, token_for: Mint
) -> None:
    served, fake = gated_exa.base_url, gated_exa.fake
    token = token_for("user-a")
    # given a discovery started with wait: false, whose provider call is under way
    started = await start_discovery(http, served, token)
    await until(lambda: fake.in_flight("/findSimilar") > 0)
    async with signed_in(served, token) as client:
        # when the viewer subscribes to it
        await client.subscribe("d", DISCOVERY_SUBSCRIPTION, {"id": started["id"]})
        running = (await client.next_data("d"))["competitorDiscovery"]
        # then it answers at once: RUNNING, nothing found yet
        assert running == {
            "id": started["id"],
            "status": "RUNNING",
            "failure": None,
            "competitors": [],
        }
        # and once the provider answers: COMPLETED with the results, then `complete`
        gated_exa.gate.set()
        rest = await statuses_until_complete(client, "d")
    assert [discovery["status"] for discovery in rest] == ["COMPLETED"]
    assert rest[0]["failure"] is None
    assert len(rest[0]["competitors"]) == 3


async def test_a_finished_discovery_answers_once_and_completes(
    served: str, http: httpx.AsyncClient, token_for: Mint
) -> None:
    # given a discovery from the offline catalog, already COMPLETED
    token = token_for("user-a")
    variables = {"input": {"userUrl": "https://acme-shop.com", "numResults": 2}}
    data = await execute_over_http(http, served, token, DISCOVER_JOB, variables)
    finished = data["discoverCompetitors"]["discovery"]
    assert finished["status"] == "COMPLETED"
    async with signed_in(served, token) as client:
        # when the viewer subscribes to it, then it is sent once, as it is, then complete
        await client.subscribe("d", DISCOVERY_SUBSCRIPTION, {"id": finished["id"]})
        sent = await statuses_until_complete(client, "d")
    assert [discovery["status"] for discovery in sent] == ["COMPLETED"]
    assert sent[0]["competitors"] == finished["competitors"]


async def test_a_discovery_deleted_by_a_hard_reset_ends_its_subscription(
    gated_exa: GatedExa, http: httpx.AsyncClient, token_for: Mint
) -> None:
    served = gated_exa.base_url
    token = token_for("user-a")
    # given a subscription to a discovery under way
    started = await start_discovery(http, served, token)
    async with signed_in(served, token) as client:
        await client.subscribe("d", DISCOVERY_SUBSCRIPTION, {"id": started["id"]})
        first = (await client.next_data("d"))["competitorDiscovery"]
        assert first["status"] in ("PENDING", "RUNNING")
        # when the viewer starts over, deleting their discoveries
        hard = {"input": {"hard": True}}
        await execute_over_http(http, served, token, RESET_ONBOARDING, hard)
        # then the subscription completes (after the RUNNING that may have raced the reset)
        late = await client.receive()
        if late["type"] == "next":
            assert late["payload"]["data"]["competitorDiscovery"]["status"] == "RUNNING"
            late = await client.receive()
        assert late == {"id": "d", "type": "complete"}


async def test_another_users_malformed_or_unknown_discovery_ids_answer_the_same_not_found(
    served: str, http: httpx.AsyncClient, token_for: Mint
) -> None:
    # given a discovery of user-b's
    variables = {"input": {"userUrl": "https://acme-shop.com", "numResults": 1}}
    data = await execute_over_http(http, served, token_for("user-b"), DISCOVER_JOB, variables)
    theirs = data["discoverCompetitors"]["discovery"]["id"]
    unknown = "Q29tcGV0aXRvckRpc2NvdmVyeTowMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA="
    answers = []
    async with signed_in(served, token_for("user-a")) as client:
        for number, discovery_id in enumerate((theirs, "not-an-id", unknown)):
            # when user-a subscribes to it, to a malformed id and to an unknown one
            await client.subscribe(f"s{number}", DISCOVERY_SUBSCRIPTION, {"id": discovery_id})
            answer = await client.receive()
            assert await client.receive() == {"id": f"s{number}", "type": "complete"}
            answers.append(answer["payload"])
    # then each answers one NOT_FOUND error and completes, and the three cannot be told apart
    assert answers[0] == {
        "data": None,
        "errors": [
            {
                "message": "No competitor discovery of yours has that id.",
                "path": ["competitorDiscovery"],
                "extensions": {"code": "NOT_FOUND"},
            }
        ],
    }
    assert answers[1] == answers[0] == answers[2]


# -- who may subscribe --------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code", "reason"),
    [
        ({}, 4401, "Unauthorized"),
        ({"Authorization": ""}, 4401, "Unauthorized"),
        ({"Authorization": "Bearer not-a-token"}, 4403, "Forbidden: invalid bearer token: malf"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 4403, "Forbidden: invalid bearer token: unsup"),
        ({"Authorization": 42}, 4403, "Forbidden: invalid bearer token: not a string"),
        ("expired", 4403, "Forbidden: invalid bearer token: token expired"),
        ("foreign issuer", 4403, "Forbidden: invalid bearer token: issuer mismatch"),
        ("unknown key", 4403, "Forbidden: invalid bearer token: "),
    ],
    ids=["none", "empty", "malformed", "basic", "not-a-string", "expired", "issuer", "key"],
)
async def test_connection_init_without_a_good_token_is_refused_like_http(
    served: str,
    signing_key: SigningKey,
    attacker_key: SigningKey,
    payload: dict[str, object] | str,
    code: int,
    reason: str,
) -> None:
    tokens = {
        "expired": mint(signing_key, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "foreign issuer": mint(signing_key, iss="https://elsewhere.test"),
        "unknown key": mint(attacker_key),
    }
    if isinstance(payload, str):
        payload = {"Authorization": f"Bearer {tokens[payload]}"}
    async with graphql_ws(served) as client:
        # when a client initialises with no token, or one the verifier refuses
        await client.send({"type": "connection_init", "payload": payload})
        closed = await client.closed()
    # then the socket is closed: 4401 without credentials, 4403 for a refused token
    assert closed.code == code
    assert closed.reason.startswith(reason), closed.reason


async def test_the_lowercase_authorization_key_is_accepted_too(
    served: str, token_for: Mint
) -> None:
    async with graphql_ws(served) as client:
        await client.send(
            {
                "type": "connection_init",
                "payload": {"authorization": f"Bearer {token_for('user-a')}"},
            }
        )
        assert await client.receive() == {"type": "connection_ack"}
        await client.subscribe("p", PROGRESS_SUBSCRIPTION)
        assert (await client.next_data("p"))["onboardingProgress"]["currentStep"] == 1


async def test_a_subscription_before_the_acknowledgement_closes_the_socket_unauthorized(
    served: str,
) -> None:
    async with graphql_ws(served) as client:
        await client.subscribe("p", PROGRESS_SUBSCRIPTION)
        closed = await client.closed()
    assert closed.code == 4401


async def test_the_socket_closes_when_its_token_expires_so_the_client_reconnects(
    settings: Settings, token_for: Mint
) -> None:
    # given no leeway, and a token good for two more seconds
    with uvicorn_serving(settings.model_copy(update={"jwt_leeway_seconds": 0})) as served:
        token = token_for("user-a", exp=int(time.time()) + 2)
        async with signed_in(served, token) as client:
            await client.subscribe("p", PROGRESS_SUBSCRIPTION)
            await client.next_data("p")
            # when the token expires, then the server closes the socket: 4403, and why
            closed = await client.closed()
        assert closed.code == 4403
        assert closed.reason == "Forbidden: the token expired; reconnect with a fresh one"
        # and a fresh token opens a new one
        async with signed_in(served, token_for("user-a")) as client:
            await client.subscribe("p", PROGRESS_SUBSCRIPTION)
            await client.next_data("p")


# -- limits --------------------------------------------------------------------------


def progress_subscription(selection: str) -> str:
    return f"subscription {{ onboardingProgress {{ {selection} }} }}"


ALIASES = progress_subscription(" ".join(f"a{n}: currentStep" for n in range(31)))
TOKENS = progress_subscription(" ".join(["currentStep"] * 2100))


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (ALIASES, "TOO_MANY_ALIASES"),
        (TOKENS, "TOO_MANY_TOKENS"),
        ("subscription { onboardingProgress { steps { number } } }", "QUERY_TOO_DEEP"),
        ("subscription { onboardingProgress { steps { number key } } }", "MAX_COST_EXCEEDED"),
    ],
    ids=["aliases", "tokens", "depth", "cost"],
)
async def test_subscription_documents_are_held_to_the_query_limits(
    settings: Settings, token_for: Mint, document: str, code: str
) -> None:
    # given the default alias and token limits; depth 2 and cost 3 for the last two
    limited = settings.model_copy(
        update={"max_query_depth": 2 if code == "QUERY_TOO_DEEP" else 12}
        | ({"max_query_cost": 3} if code == "MAX_COST_EXCEEDED" else {})
    )
    with uvicorn_serving(limited) as served:
        async with signed_in(served, token_for("user-a")) as client:
            # when a subscription passes a limit, then it is refused with the HTTP code
            await client.subscribe("x", document)
            refused = await client.receive()
            assert (refused["type"], refused["id"]) == ("error", "x"), refused
            assert [error.get("extensions", {}).get("code") for error in refused["payload"]] == [
                code
            ]
            # and the connection goes on serving
            await client.subscribe("p", "subscription { onboardingProgress { currentStep } }")
            assert await client.next_data("p") == {"onboardingProgress": {"currentStep": 1}}


async def test_subscriptions_per_connection_are_bounded(
    settings: Settings, token_for: Mint
) -> None:
    with uvicorn_serving(settings.model_copy(update={"subscriptions_per_connection": 2})) as served:
        async with signed_in(served, token_for("user-a")) as client:
            # given a connection with its two subscriptions
            for operation_id in ("one", "two"):
                await client.subscribe(operation_id, PROGRESS_SUBSCRIPTION)
                await client.next_data(operation_id)
            # when a third is asked for, then it is refused, and the socket stays open
            await client.subscribe("three", PROGRESS_SUBSCRIPTION)
            refused = await client.receive()
            assert (refused["type"], refused["id"]) == ("error", "three"), refused
            assert refused["payload"][0]["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS"}
            # and once one completes, there is room again
            await client.send({"id": "one", "type": "complete"})
            await client.subscribe("three", PROGRESS_SUBSCRIPTION)
            await client.next_data("three")


async def test_connections_per_user_are_bounded(settings: Settings, token_for: Mint) -> None:
    limited = settings.model_copy(update={"websocket_connections_per_user": 2})
    with uvicorn_serving(limited) as served:
        async with signed_in(served, token_for("user-a")), signed_in(served, token_for("user-a")):
            # given a user with two connections, when they open a third, then it is refused
            async with graphql_ws(served) as third:
                await third.send(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {token_for('user-a')}"},
                    }
                )
                closed = await third.closed()
            assert closed.code == 1013
            assert closed.reason == "Try again later: at most 2 connections per user"
            # and another user is not affected
            async with signed_in(served, token_for("user-b")):
                pass
        # and once the user's connections close, they may open new ones
        async with signed_in(served, token_for("user-a")):
            pass


async def test_queries_and_mutations_are_sent_over_http_not_websocket(
    served: str, token_for: Mint
) -> None:
    async with signed_in(served, token_for("user-a")) as client:
        await client.subscribe("q", "query { viewer { id } }")
        refused = await client.receive()
    assert refused == {
        "id": "q",
        "type": "error",
        "payload": [
            {
                "message": (
                    "Only subscriptions are served over WebSocket;"
                    " send queries and mutations over HTTP."
                )
            }
        ],
    }


async def test_open_subscriptions_are_a_gauge(
    served: str, http: httpx.AsyncClient, token_for: Mint
) -> None:
    async def gauge() -> float | None:
        text = (await http.get(f"{served}/metrics")).text
        return sample(text, "onboarding_subscriptions_open")

    async with signed_in(served, token_for("user-a")) as client:
        for operation_id in ("one", "two"):
            await client.subscribe(operation_id, PROGRESS_SUBSCRIPTION)
            await client.next_data(operation_id)
        assert await gauge() == 2
        await client.send({"id": "one", "type": "complete"})
        deadline = time.monotonic() + 10
        while await gauge() != 1:
            assert time.monotonic() < deadline, await gauge()
            await asyncio.sleep(0.05)
    deadline = time.monotonic() + 10
    while await gauge() != 0:
        assert time.monotonic() < deadline, await gauge()
        await asyncio.sleep(0.05)


async def test_browsers_connect_only_from_the_allowed_origins(
    settings: Settings, token_for: Mint
) -> None:
    allowed = "https://app.example.com"
    with uvicorn_serving(settings.model_copy(update={"cors_origins": [allowed]})) as served:
        # a page on another site is refused before the handshake completes
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                websocket_url(served),
                subprotocols=[Subprotocol("graphql-transport-ws")],
                origin=Origin("https://elsewhere.example"),
            ):
                pass
        assert refused.value.response.status_code == 403
        # the frontend's own origin is served
        async with connect(
            websocket_url(served),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=Origin(allowed),
        ) as socket:
            client = GraphQLWS(socket)
            assert await client.init(token_for("user-a")) == {"type": "connection_ack"}
