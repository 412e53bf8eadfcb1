"""Stored discoveries: the 24-hour cache, `refresh`, history, pagination and isolation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from db.engine import create_engine, write_transaction
from db.models import competitor_discoveries
from tests.support.discovery import DISCOVERIES, DISCOVERY, discovered
from tests.support.graphql import GraphQLClient


async def age_all_discoveries(database_url: str, by: timedelta) -> None:
    engine = create_engine(database_url)
    try:
        async with write_transaction(engine) as connection:
            await connection.execute(
                update(competitor_discoveries).values(created_at=datetime.now(UTC) - by)
            )
    finally:
        await engine.dispose()


async def history(graphql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    return dict((await graphql.execute(DISCOVERIES, variables))["competitorDiscoveries"])


async def all_pages(graphql: GraphQLClient, first: int) -> tuple[list[str], int]:
    """Every discovery id in history order, read `first` at a time, and the number of pages."""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await history(graphql, first=first, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]


async def test_an_identical_request_answers_the_stored_discovery(graphql: GraphQLClient) -> None:
    # given a discovery
    first = await discovered(graphql, industryContext="e-commerce", numResults=5)
    # when the same request is made again (the URL spelled differently)
    again = await discovered(
        graphql, userUrl="WWW.my-little-shop.com", industryContext="e-commerce", numResults=5
    )
    # then it is the stored one, marked cached
    assert first["cached"] is False
    assert again["cached"] is True
    assert again["id"] == first["id"]
    assert again["createdAt"] == first["createdAt"]
    assert again["competitors"] == first["competitors"]


async def test_a_different_request_is_not_a_cache_hit(graphql: GraphQLClient) -> None:
    first = await discovered(graphql, industryContext="e-commerce", numResults=5)
    for change in ({"industryContext": "travel"}, {"numResults": 6}, {"userUrl": "other.com"}):
        fields = {"industryContext": "e-commerce", "numResults": 5, **change}
        other = await discovered(graphql, **fields)
        assert other["cached"] is False
        assert other["id"] != first["id"]


async def test_refresh_makes_a_new_discovery(graphql: GraphQLClient) -> None:
    # given a discovery
    first = await discovered(graphql, numResults=5)
    # when the same request is made with refresh
    fresh = await discovered(graphql, numResults=5, refresh=True)
    # then a new one is made, and it is what the cache answers from then on
    assert fresh["cached"] is False
    assert fresh["id"] != first["id"]
    assert (await discovered(graphql, numResults=5))["id"] == fresh["id"]


async def test_the_cache_lasts_24_hours(graphql: GraphQLClient, database_url: str) -> None:
    # given a discovery made 25 hours ago
    first = await discovered(graphql, numResults=5)
    await age_all_discoveries(database_url, timedelta(hours=25))
    # when the same request is made, then a new discovery answers
    again = await discovered(graphql, numResults=5)
    assert again["cached"] is False
    assert again["id"] != first["id"]


async def test_a_discovery_can_be_read_by_id(graphql: GraphQLClient) -> None:
    found = await discovered(graphql, numResults=3)
    read = (await graphql.execute(DISCOVERY, {"id": found["id"]}))["competitorDiscovery"]
    assert read == {**found, "cached": False}
    assert base64.b64decode(found["id"]).decode().startswith("CompetitorDiscovery:")


async def test_another_user_cannot_see_a_discovery(graphql: GraphQLClient) -> None:
    # given user A's discovery
    found = await discovered(graphql, numResults=3)
    user_b = graphql.as_user("user-b")
    # when user B reads it by id, then it is null
    assert (await user_b.execute(DISCOVERY, {"id": found["id"]}))["competitorDiscovery"] is None
    # and B's history does not list it
    assert (await history(user_b))["edges"] == []
    # and B's identical request is B's own new discovery, not A's cached one
    mine = await discovered(user_b, numResults=3)
    assert mine["cached"] is False
    assert mine["id"] != found["id"]


@pytest.mark.parametrize(
    "bad_id",
    ["", "nope", base64.b64encode(b"CompetitorDiscovery:not-a-uuid").decode(), "Q29tcA=="],
)
async def test_a_malformed_id_reads_null(graphql: GraphQLClient, bad_id: str) -> None:
    assert (await graphql.execute(DISCOVERY, {"id": bad_id}))["competitorDiscovery"] is None


async def test_history_lists_newest_first_and_pages_with_after(graphql: GraphQLClient) -> None:
    # given five discoveries
    made = [(await discovered(graphql, numResults=n))["id"] for n in range(1, 6)]
    newest_first = list(reversed(made))
    # when the history is read two at a time
    seen, pages = await all_pages(graphql, first=2)
    # then every discovery appears once, newest first, over three pages
    assert seen == newest_first
    assert pages == 3
    # and the default page holds them all
    assert [edge["node"]["id"] for edge in (await history(graphql))["edges"]] == newest_first


async def test_discoveries_made_at_the_same_instant_page_without_loss(
    graphql: GraphQLClient, database_url: str
) -> None:
    # given four discoveries stored with the same created_at
    made = {(await discovered(graphql, numResults=n))["id"] for n in range(1, 5)}
    await age_all_discoveries(database_url, timedelta(minutes=5))
    # when paged one at a time, then each appears exactly once
    seen, pages = await all_pages(graphql, first=1)
    assert sorted(seen) == sorted(made)
    assert pages == 4


BAD_PAGES = [
    *({"first": first} for first in (0, -1, 101, 1000)),
    *(
        {"after": cursor}
        for cursor in ("garbage", base64.b64encode(b"discovery:yesterday|x").decode(), "Q29tcA==")
    ),
]


@pytest.mark.parametrize("variables", BAD_PAGES, ids=str)
async def test_a_first_outside_1_to_100_or_a_bad_cursor_is_an_invalid_argument(
    graphql: GraphQLClient, variables: dict[str, object]
) -> None:
    response = await graphql.post(DISCOVERIES, variables)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    # and the message names the argument
    [argument] = variables
    assert f"`{argument}`" in body["errors"][0]["message"]
