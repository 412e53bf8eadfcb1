"""Any step-data key whose name says secret is encrypted at rest and masked, like step 1's keys."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.settings import Settings
from db.engine import create_engine
from db.models import onboarding_steps
from resolvers.secrets import SecretBox
from resolvers.step_secrets import is_secret_name, mask_secret, split_secrets
from tests.support.graphql import GraphQLClient
from tests.support.onboarding import COMPLETE_STEP, SKIP_STEP, STEP_DATA

ANTHROPIC_KEY = "sk-ant-api03-0123456789abcdefghijklmnopqrstuvwxyz-WXYZ"
WORDPRESS_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
SHORT_TOKEN = "hunter2"  # seven characters: shown as •••• alone, never as ••••ter2


async def raw_step(database_url: str, number: int) -> Any:
    """The step's row as the database holds it, read with SQL."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(onboarding_steps.c.data, onboarding_steps.c.encrypted_secrets).where(
                    onboarding_steps.c.user_id == "user-a", onboarding_steps.c.number == number
                )
            )
            return result.one()
    finally:
        await engine.dispose()


async def complete(graphql: GraphQLClient, step: int, data: Any) -> dict[str, Any]:
    payload = await graphql.execute(COMPLETE_STEP, {"input": {"step": step, "data": data}})
    result = dict(payload["completeOnboardingStep"])
    assert result["userErrors"] == [], result["userErrors"]
    return result


async def test_secrets_named_anywhere_in_any_step_are_sealed_and_masked(
    graphql: GraphQLClient, settings: Settings, database_url: str
) -> None:
    # given step 1 with an extra top-level anthropicApiKey
    step_one = {**(STEP_DATA[1] or {}), "anthropicApiKey": ANTHROPIC_KEY}
    first = await complete(graphql, 1, step_one)
    for number in (2, 3):
        await complete(graphql, number, STEP_DATA[number])
    await graphql.execute(SKIP_STEP, {"input": {"step": 4}})
    # and step 5 with a WordPress application password, a short token and innocent keys
    step_five = {
        "wordpress": {
            "siteUrl": "https://blog.example.com",
            "username": "editor",
            "applicationPassword": WORDPRESS_PASSWORD,
        },
        "slack": {"bot_token": SHORT_TOKEN, "tokenizer": "cl100k", "maxTokens": 4096},
        "passwordPolicy": "strong",
    }
    fifth = await complete(graphql, 5, step_five)

    # when the raw rows are read with SQL
    row_one, row_five = await raw_step(database_url, 1), await raw_step(database_url, 5)
    # then no secret is in the data column
    for row, secret in ((row_one, ANTHROPIC_KEY), (row_five, WORDPRESS_PASSWORD)):
        assert secret not in repr(row.data)
        assert secret.encode() not in row.encrypted_secrets
    assert SHORT_TOKEN not in repr(row_five.data)
    # and the sealed copy holds exactly the secrets, in the data's shape
    assert settings.secret_key is not None
    box = SecretBox([settings.secret_key.get_secret_value()])
    assert box.open(row_one.encrypted_secrets) == {
        "apiKeys": STEP_DATA[1]["apiKeys"],  # type: ignore[index]
        "anthropicApiKey": ANTHROPIC_KEY,
    }
    assert box.open(row_five.encrypted_secrets) == {
        "wordpress": {"applicationPassword": WORDPRESS_PASSWORD},
        "slack": {"bot_token": SHORT_TOKEN},
    }

    # and the API shows them masked, in the mutation's answer and in every later read
    masked_five = {
        "wordpress": {
            "siteUrl": "https://blog.example.com",
            "username": "editor",
            "applicationPassword": "••••UVWX",
        },
        "slack": {"bot_token": "••••", "tokenizer": "cl100k", "maxTokens": 4096},
        "passwordPolicy": "strong",
    }
    assert fifth["step"]["data"] == masked_five
    assert first["step"]["data"]["anthropicApiKey"] == "••••WXYZ"
    steps = (await graphql.execute("{ onboardingProgress { steps { data } } }"))[
        "onboardingProgress"
    ]["steps"]
    assert steps[0]["data"]["anthropicApiKey"] == "••••WXYZ"
    assert steps[4]["data"] == masked_five


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "applicationPassword",
        "application_password",
        "api_key",
        "apiKey",
        "APIKey",
        "apiKeys",
        "ANTHROPIC-API-KEY",
        "anthropicApiKey",
        "OPENAI_APIKEY",
        "openaiapikey",
        "x-api-key",
        "clientSecret",
        "client secret",
        "webhook.secret",
        "secretKey",
        "privateKey",
        "accessToken",
        "refresh_token",
        "idToken",
        "tokens",
        "passphrase",
        "dbPasswd",
        "password2",
        "tokenValue",
        "passwordForWordpress",
    ],
)
def test_names_that_say_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "tokenizer",
        "secretary",
        "passwordless",
        "passwordPolicy",
        "password_hint",
        "tokenLimit",
        "tokenCount",
        "token_type",
        "tokenExpiresAt",
        "tokenUrl",
        "apiKeyId",
        "apiKeyName",
        "secretName",
        "publicKey",
        "keyboard",
        "monkey",
        "username",
        "api",
        "key",
        "",
    ],
)
def test_names_that_merely_contain_a_secret_word(name: str) -> None:
    assert not is_secret_name(name)


def test_masks_show_four_characters_only_of_secrets_longer_than_eight() -> None:
    assert mask_secret("1234") == "••••"
    assert mask_secret("12345678") == "••••"
    assert mask_secret("123456789") == "••••6789"


def test_split_keeps_the_shape_masks_every_string_under_a_secret_and_only_strings() -> None:
    data = {
        "accounts": [{"name": "a", "password": "pw-one-long"}, {"name": "b"}],
        "tokens": {"access": "a" * 20, "scopes": ["read", "write"], "ttl": 3600},
        "hasPassword": True,
        "maxTokens": 4096,
        "password": "",
    }
    shown, hidden = split_secrets(data)
    assert shown == {
        "accounts": [{"name": "a", "password": "••••long"}, {"name": "b"}],
        "tokens": {"access": "••••aaaa", "scopes": ["••••", "••••"], "ttl": 3600},
        "hasPassword": True,
        "maxTokens": 4096,
        "password": "",
    }
    assert hidden == {
        "accounts": [{"password": "pw-one-long"}, None],
        "tokens": {"access": "a" * 20, "scopes": ["read", "write"]},
    }
    assert split_secrets({"plain": "text"}) == ({"plain": "text"}, None)
