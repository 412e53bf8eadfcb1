"""Run an app built from settings in-process, the way the tests talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.factory import create_app
from app.settings import Settings
from resolvers.secrets import SecretBox
from tests.support.jwks_server import DEFAULT_ISSUER


def offline_settings(database_url: str, jwks_url: str, data_dir: Path) -> Settings:
    """The app's settings for a test: its database, the test issuer, and the offline
    catalog as the provider whatever the environment says about Exa (tests never reach
    the internet; the Exa tests point the app at a fake)."""
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        jwks_url=jwks_url,
        jwt_issuer=DEFAULT_ISSUER,
        secret_key=SecretBox.generate_key(),
        competitor_provider="catalog",
        exa_api_key=None,
    )


def settings_with(**changes: Any) -> object:
    """A module's `settings` fixture: the suite's settings with `changes`.

    At a test module's top level: `settings = settings_with(max_body_bytes=4096)`.
    """

    @pytest.fixture
    def settings(settings: Settings) -> Settings:
        return settings.model_copy(update=changes)

    return settings


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def http_client_for(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a freshly started app with `settings`."""
    async with running_app(settings) as application, http_client_for(application) as client:
        yield client
