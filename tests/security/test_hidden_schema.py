"""Production hides the schema by default, and typos do not reveal it.

GraphiQL and introspection are off in production unless configured back on;
whenever introspection is off, no error says "Did you mean …?".
"""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings
from tests.support.app import serving
from tests.support.server_process import free_port

INTROSPECT = "{ __schema { queryType { name } } }"

# One document per kind of suggestion graphql-core makes, with what it would suggest.
TYPOS: dict[str, tuple[dict[str, Any], str]] = {
    "field": ({"query": "{ viewr { id } }"}, "viewer"),
    "argument": ({"query": "{ onboardingStep(numbr: 1) { status } }"}, "number"),
    "type": (
        {
            "query": "mutation($i: SkipOnboardingStepInputt!) {"
            " skipOnboardingStep(input: $i) { userErrors { code } } }"
        },
        "SkipOnboardingStepInput",
    ),
    "input field": (
        {
            "query": "mutation { skipOnboardingStep(input: {step: 4, sessionIdd: null})"
            " { userErrors { code } } }"
        },
        "sessionId",
    ),
    "input field of a variable": (
        {
            "query": "mutation($i: SkipOnboardingStepInput!) {"
            " skipOnboardingStep(input: $i) { userErrors { code } } }",
            "variables": {"i": {"step": 4, "sessionIdd": None}},
        },
        "sessionId",
    ),
}


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


def production(settings: Settings, **values: Any) -> Settings:
    """`settings` as production would load them: only what is set, defaults by `env`."""
    return Settings(
        env="production",
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        # Nothing listens there: the start-up key fetch fails at once, which is fine here.
        jwks_url=f"https://127.0.0.1:{free_port()}/.well-known/jwks.json",
        jwt_issuer=settings.jwt_issuer,
        jwt_audience="https://api.onboarding.test",
        secret_key=settings.secret_key,
        **values,
    )


def test_graphiql_and_introspection_are_off_by_default_only_in_production(
    settings: Settings,
) -> None:
    assert (settings.graphiql, settings.introspection) == (True, True)
    assert (production(settings).graphiql, production(settings).introspection) == (False, False)
    configured_back_on = production(settings, graphiql=True, introspection=True)
    assert (configured_back_on.graphiql, configured_back_on.introspection) == (True, True)


async def test_production_serves_no_graphiql_no_schema_and_no_suggestions(
    settings: Settings,
) -> None:
    # given a production service with the default settings
    async with serving(production(settings)) as http:
        # when a browser opens /graphql, a client asks for the schema, another misspells
        page = await http.get("/graphql", headers={"accept": "text/html"})
        schema = await http.post("/graphql", json={"query": INTROSPECT})
        typo = await http.post("/graphql", json={"query": "{ viewr { id } }"})
    # then there is no IDE, no schema and no hint of what the field is called
    assert "graphiql" not in page.text.lower()
    assert schema.json().get("data") is None
    assert "Query" not in schema.text
    assert [error["message"] for error in typo.json()["errors"]] == [
        "Cannot query field 'viewr' on type 'Query'."
    ]


@pytest.mark.parametrize("kind", list(TYPOS))
async def test_with_introspection_off_no_error_suggests_a_name(
    settings: Settings, kind: str
) -> None:
    body, suggested = TYPOS[kind]
    # given introspection turned off
    async with serving(settings.model_copy(update={"introspection": False})) as http:
        # when a document misspells a name of the schema
        response = await http.post("/graphql", json=body)
    # then it is an error that suggests nothing
    errors = response.json()["errors"]
    assert errors
    assert "Did you mean" not in response.text
    assert f"'{suggested}'" not in response.text


@pytest.mark.parametrize("kind", list(TYPOS))
async def test_with_introspection_on_errors_still_suggest(settings: Settings, kind: str) -> None:
    body, suggested = TYPOS[kind]
    # given introspection on (the development default) / when a name is misspelt
    async with serving(settings) as http:
        response = await http.post("/graphql", json=body)
    # then the error helps the developer, as GraphQL servers do
    assert "Did you mean" in response.text
    assert f"'{suggested}'" in response.text
