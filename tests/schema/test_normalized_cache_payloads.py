"""Every mutation answers what it changed, with ids, so a normalized cache updates in place.

What a client holds after a query must be overwritten by the mutation's
payload under the same ids; what a mutation deletes is named so it can be
evicted; a new discovery comes as the edge to prepend. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from tests.support.discovery import discovered
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import STEP_DATA

VIEWER = "{ viewer { id onboarding { id currentStep steps { id number status } } } }"
PROGRESS_IDS = "progress { id currentStep steps { id status } }"
COMPLETE = f"""
mutation Complete($input: CompleteOnboardingStepInput!) {{
  completeOnboardingStep(input: $input) {{
    step {{ id status }} {PROGRESS_IDS} userErrors {{ code }}
  }}
}}
"""
SKIP = f"""
mutation Skip($input: SkipOnboardingStepInput!) {{
  skipOnboardingStep(input: $input) {{ step {{ id status }} {PROGRESS_IDS} userErrors {{ code }} }}
}}
"""
FINISH = f"""
mutation {{
  completeOnboarding {{ {PROGRESS_IDS} deletedDiscoveryIds userErrors {{ code }} }}
}}
"""
RESET = f"""
mutation Reset($hard: Boolean!) {{
  resetOnboarding(input: {{hard: $hard}}) {{
    {PROGRESS_IDS} deletedDiscoveryIds userErrors {{ code }}
  }}
}}
"""
DISCOVER = """
mutation Discover($input: DiscoverCompetitorsInput!) {
  discoverCompetitors(input: $input) {
    discovery { id }
    discoveryEdge { cursor node { id userUrl } }
    userErrors { code }
  }
}
"""
HISTORY = """
query History($first: Int) {
  competitorDiscoveries(first: $first) { totalCount edges { cursor node { id } } }
}
"""


async def test_step_mutations_answer_the_step_and_progress_the_viewer_query_holds(
    graphql: GraphQLClient,
) -> None:
    # given what the viewer query put in the client's cache
    before = (await graphql.execute(VIEWER))["viewer"]["onboarding"]
    step_ids = [step["id"] for step in before["steps"]]
    # when step 1 is completed and step 4 skipped (after 2 and 3)
    completed = (await graphql.execute(COMPLETE, {"input": {"step": 1, "data": STEP_DATA[1]}}))[
        "completeOnboardingStep"
    ]
    for step in (2, 3):
        await graphql.execute(COMPLETE, {"input": {"step": step, "data": STEP_DATA[step]}})
    skipped = (await graphql.execute(SKIP, {"input": {"step": 4}}))["skipOnboardingStep"]
    # then each payload names the very objects the query cached, in their new state
    assert completed["step"] == {"id": step_ids[0], "status": "COMPLETED"}
    assert completed["progress"]["id"] == before["id"]
    assert completed["progress"]["currentStep"] == 2
    assert [step["id"] for step in completed["progress"]["steps"]] == step_ids
    assert skipped["step"] == {"id": step_ids[3], "status": "SKIPPED"}
    assert skipped["progress"]["id"] == before["id"]
    assert skipped["progress"]["currentStep"] == 5


async def test_a_refused_step_still_answers_the_progress_with_ids(graphql: GraphQLClient) -> None:
    before = (await graphql.execute(VIEWER))["viewer"]["onboarding"]
    refused = (await graphql.execute(COMPLETE, {"input": {"step": 1, "data": {}}}))[
        "completeOnboardingStep"
    ]
    assert refused["step"] is None
    assert refused["userErrors"]
    assert refused["progress"]["id"] == before["id"]
    # the failed attempt is stored on the step, under the id the cache holds
    assert refused["progress"]["steps"][0] == {"id": before["steps"][0]["id"], "status": "FAILED"}


async def test_finishing_answers_the_progress_and_deletes_nothing(graphql: GraphQLClient) -> None:
    before = (await graphql.execute(VIEWER))["viewer"]["onboarding"]
    for step in (1, 2, 3, 4, 5):
        await graphql.execute(COMPLETE, {"input": {"step": step, "data": STEP_DATA[step]}})
    finished = (await graphql.execute(FINISH))["completeOnboarding"]
    assert finished["userErrors"] == []
    assert finished["progress"]["id"] == before["id"]
    last = {"id": before["steps"][5]["id"], "status": "COMPLETED"}
    assert finished["progress"]["steps"][5] == last
    assert finished["deletedDiscoveryIds"] == []


async def test_a_hard_reset_names_every_discovery_it_deleted(graphql: GraphQLClient) -> None:
    # given two discoveries of the viewer and one of another user
    mine = {
        (await discovered(graphql, userUrl=url, numResults=2))["id"]
        for url in ("https://www.my-little-shop.com", "https://another-shop.example.com")
    }
    bob = graphql.as_user("user-b")
    bobs = await discovered(bob, userUrl="https://bobs-garage.example.com", numResults=2)
    # when a soft reset, then a hard reset, are made
    soft = (await graphql.execute(RESET, {"hard": False}))["resetOnboarding"]
    hard = (await graphql.execute(RESET, {"hard": True}))["resetOnboarding"]
    again = (await graphql.execute(RESET, {"hard": True}))["resetOnboarding"]
    # then the soft one deletes nothing, the hard one names exactly the viewer's discoveries
    assert soft["deletedDiscoveryIds"] == []
    assert set(hard["deletedDiscoveryIds"]) == mine
    assert len(hard["deletedDiscoveryIds"]) == len(mine)
    assert again["deletedDiscoveryIds"] == []
    # and the other user's discovery is untouched
    assert (await bob.execute(HISTORY, {"first": 10}))["competitorDiscoveries"]["edges"][0]["node"][
        "id"
    ] == bobs["id"]


async def test_discover_answers_the_edge_the_connection_holds(graphql: GraphQLClient) -> None:
    # when a discovery is made
    payload = (
        await graphql.execute(
            DISCOVER, {"input": {"userUrl": "https://www.my-little-shop.com", "numResults": 2}}
        )
    )["discoverCompetitors"]
    # then its edge is the one the connection shows first, cursor included
    history = (await graphql.execute(HISTORY, {"first": 10}))["competitorDiscoveries"]
    assert payload["discoveryEdge"]["node"]["id"] == payload["discovery"]["id"]
    assert payload["discoveryEdge"]["cursor"] == history["edges"][0]["cursor"]
    assert payload["discoveryEdge"]["node"]["userUrl"] == "https://www.my-little-shop.com/"


async def test_a_refused_discovery_has_no_edge(graphql: GraphQLClient) -> None:
    payload = (
        await graphql.execute(DISCOVER, {"input": {"userUrl": "not a url", "numResults": 2}})
    )["discoverCompetitors"]
    assert payload["userErrors"]
    assert payload["discovery"] is None
    assert payload["discoveryEdge"] is None


async def test_total_count_counts_every_page_of_the_viewers_own(graphql: GraphQLClient) -> None:
    empty = (await graphql.execute(HISTORY, {"first": 1}))["competitorDiscoveries"]
    assert empty["totalCount"] == 0
    for url in (
        "https://a-shop.example.com",
        "https://b-shop.example.com",
        "https://c-shop.example.com",
    ):
        await discovered(graphql, userUrl=url, numResults=1)
    await discovered(graphql.as_user("user-b"), userUrl="https://bobs.example.com", numResults=1)
    page = (await graphql.execute(HISTORY, {"first": 1}))["competitorDiscoveries"]
    assert page["totalCount"] == 3
    assert len(page["edges"]) == 1


async def test_values_inside_a_discovery_keep_their_ids(graphql: GraphQLClient) -> None:
    fields = "id competitors { id domain } socialMediaAccounts { id } researchSummary { id }"
    query = f"query D($id: ID!) {{ competitorDiscovery(id: $id) {{ {fields} }} }}"
    found = await discovered(graphql, numResults=5)
    first = (await graphql.execute(query, {"id": found["id"]}))["competitorDiscovery"]
    second = (await graphql.execute(query, {"id": found["id"]}))["competitorDiscovery"]
    assert first == second
    competitor_ids = [competitor["id"] for competitor in first["competitors"]]
    assert len(set(competitor_ids)) == len(competitor_ids) == 5
    assert first["socialMediaAccounts"]["id"] != first["researchSummary"]["id"]
