"""The long-lived objects one app instance holds between requests."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.metrics import Metrics
from app.secret_keys import secret_box_for
from app.settings import Settings
from auth import DevIssuer, JWKSCache, TokenVerifier, http_jwks_fetcher
from db.engine import create_engine
from discovery import CompetitorProvider, ExaProvider
from resolvers.catalog import catalog_provider
from resolvers.services import DiscoveryPolicy, Services

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    services: Services
    verifier: TokenVerifier
    jwks: JWKSCache
    metrics: Metrics
    dev_issuer: DevIssuer | None
    http_client: httpx.AsyncClient

    async def close(self) -> None:
        await self.http_client.aclose()
        await self.services.engine.dispose()
        logger.info("database connection pool closed")


def build_runtime(settings: Settings, metrics: Metrics) -> Runtime:
    """Make the engine, keys and verifier; nothing here touches the network."""
    http_client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    dev_issuer: DevIssuer | None = None
    if settings.jwks_url is None:
        dev_issuer = DevIssuer.load_or_create(settings.data_dir)
        jwks = JWKSCache(
            dev_issuer.fetch_jwks,
            refresh_interval=settings.jwks_refresh_seconds,
            unknown_kid_cooldown=settings.jwks_unknown_kid_cooldown_seconds,
        )
        issuer = settings.jwt_issuer or dev_issuer.issuer
    else:
        if not settings.jwt_issuer:
            raise ValueError("ONBOARDING_JWT_ISSUER is required with ONBOARDING_JWKS_URL")
        jwks = JWKSCache(
            http_jwks_fetcher(settings.jwks_url, http_client),
            refresh_interval=settings.jwks_refresh_seconds,
            unknown_kid_cooldown=settings.jwks_unknown_kid_cooldown_seconds,
        )
        issuer = settings.jwt_issuer
    verifier = TokenVerifier(
        jwks,
        issuer=issuer,
        audience=settings.jwt_audience,
        authorized_parties=settings.authorized_parties,
        leeway_seconds=settings.jwt_leeway_seconds,
    )
    engine = create_engine(settings.resolved_database_url, settings.database_timeouts())
    services = Services(
        engine=engine,
        secret_box=secret_box_for(settings),
        discovery=DiscoveryPolicy(
            provider=metrics.measured(_competitor_provider(settings, engine, http_client)),
            timeout_seconds=settings.provider_timeout_seconds,
            per_minute=settings.discoveries_per_minute,
        ),
    )
    return Runtime(
        settings=settings,
        services=services,
        verifier=verifier,
        jwks=jwks,
        metrics=metrics,
        dev_issuer=dev_issuer,
        http_client=http_client,
    )


def _competitor_provider(
    settings: Settings, engine: AsyncEngine, http_client: httpx.AsyncClient
) -> CompetitorProvider:
    if settings.resolved_competitor_provider == "catalog":
        return catalog_provider(engine)
    # Without a key the provider answers PROVIDER_MISCONFIGURED per request,
    # which says what is wrong where a failed start would not.
    key = settings.exa_api_key.get_secret_value() if settings.exa_api_key else ""
    return ExaProvider(
        key,
        client=http_client,
        base_url=settings.exa_base_url,
        timeout=settings.provider_timeout_seconds,
    )
