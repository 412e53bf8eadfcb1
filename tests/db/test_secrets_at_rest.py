"""Step 1's API keys: encrypted in the database, masked in the API, never returned."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.settings import Settings
from db.engine import create_engine
from db.models import onboarding_steps
from resolvers.secrets import SecretBox
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, PROGRESS, STEP_DATA

API_KEYS: dict[str, str] = STEP_DATA[1]["apiKeys"]  # type: ignore[index]


async def _raw_step_one(database_url: str) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(onboarding_steps.c.data, onboarding_steps.c.encrypted_secrets).where(
                    onboarding_steps.c.user_id == "user-a", onboarding_steps.c.number == 1
                )
            )
            return result.one()
    finally:
        await engine.dispose()


async def test_the_stored_row_holds_no_plaintext_key(
    graphql: GraphQLClient, settings: Settings, database_url: str
) -> None:
    # given step 1 completed with three API keys
    await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # when the raw row is read straight from the database
    row = await _raw_step_one(database_url)
    raw = repr(row.data).encode() + row.encrypted_secrets
    # then no key appears in it, in any column
    for key in API_KEYS.values():
        assert key.encode() not in raw
    # and the sealed copy really holds the keys, for whoever has the service's secret key
    assert settings.secret_key is not None
    box = SecretBox([settings.secret_key.get_secret_value()])
    assert box.open(row.encrypted_secrets) == {"apiKeys": API_KEYS}


async def test_the_api_returns_keys_masked(graphql: GraphQLClient) -> None:
    # given step 1 completed
    payload = await graphql.execute(COMPLETE_STEP, {"input": {"step": 1, "data": STEP_DATA[1]}})
    # when the progress is read back
    progress = (await graphql.execute(PROGRESS))["onboardingProgress"]
    # then each key shows only as •••• and its last four characters
    expected = {name: "••••" + key[-4:] for name, key in API_KEYS.items()}
    assert progress["steps"][0]["data"] == {"apiKeys": expected}
    assert payload["completeOnboardingStep"]["step"]["data"] == {"apiKeys": expected}
