"""Slow competitor discoveries cannot starve the fetch of the issuer's keys.

The provider's HTTP pool is filled with calls a stalling Exa never answers;
then the issuer rotates in a new key and a token signed with it arrives. The
key fetch must not queue behind the provider's calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from pydantic import SecretStr

from app.runtime import PROVIDER_HTTP_CONNECTIONS
from app.settings import Settings
from tests.support.app import serving
from tests.support.discovery import DISCOVER
from tests.support.fake_exa import FakeExa, FakeExaConfig, run_fake_exa
from tests.support.graphql import GraphQLClient
from tests.support.jwks_server import JWKSServer, SigningKey, mint
from tests.support.waiting import until

EXA_KEY = "pool-test-key"
# Each discovery makes two provider calls at once (similar sites, social profiles).
CALLS_PER_DISCOVERY = 2
STALL_SECONDS = 120.0


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def stalling_exa() -> Iterator[FakeExa]:
    """An Exa that holds every call open until the test ends."""
    with run_fake_exa(FakeExaConfig(api_key=EXA_KEY, delay=STALL_SECONDS)) as fake:
        yield fake


async def test_a_rotated_key_verifies_while_slow_discoveries_fill_the_provider_pool(
    settings: Settings,
    stalling_exa: FakeExa,
    jwks_server: JWKSServer,
    token_for: Callable[[str], str],
) -> None:
    pool_size = PROVIDER_HTTP_CONNECTIONS
    exa_settings = settings.model_copy(
        update={
            "competitor_provider": "exa",
            "exa_api_key": SecretStr(EXA_KEY),
            "exa_base_url": stalling_exa.base_url,
            "provider_timeout_seconds": STALL_SECONDS,
            # Enough discoveries at once to fill the provider's pool; the cap on
            # concurrent provider calls would otherwise keep them queued.
            "discoveries_running_total": 1_000,
        }
    )
    async with serving(exa_settings) as http:
        graphql = GraphQLClient(http, token_for, None)
        # given more slow discoveries (one per user, so no per-user limit applies)
        # than the provider's pool has connections for
        discoveries = [
            asyncio.create_task(
                graphql.as_user(f"user-{n}").post(
                    DISCOVER, {"input": {"userUrl": f"https://shop-{n}.com"}}
                )
            )
            for n in range(pool_size // CALLS_PER_DISCOVERY + 10)
        ]
        try:
            await until(
                lambda: len(stalling_exa.requests) >= pool_size,
                within=60,
                what="the provider's pool filling up",
            )
            # when the issuer rotates in a new key and a token signed with it arrives
            rotated = SigningKey.generate("rotated-while-busy")
            jwks_server.keys.append(rotated)
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { id } }"},
                headers={"authorization": f"Bearer {mint(rotated, sub='user-rotated')}"},
            )
            # then the key is fetched at once and the token verifies
            assert response.status_code == 200, response.text
            assert response.json() == {"data": {"viewer": {"id": "user-rotated"}}}
            # and the discoveries were all still waiting on the provider meanwhile
            assert not any(discovery.done() for discovery in discoveries)
        finally:
            for discovery in discoveries:
                discovery.cancel()
            await asyncio.gather(*discoveries, return_exceptions=True)
