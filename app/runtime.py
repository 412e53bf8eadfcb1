"""The long-lived objects one app instance holds between requests."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.deprecated_usage_ledger import DeprecatedUsageLedger
from app.deprecation import DeprecatedUsageDesk, DeprecationNotice
from app.metrics import Metrics
from app.outbound_http import OutboundSession
from app.secret_keys import secret_box_for
from app.settings import Settings
from auth import (
    DevIssuer,
    JWKSCache,
    JWKSFetcher,
    TokenVerifier,
    http_jwks_fetcher,
)
from db.change_feed import change_feed_for
from db.engine import create_engine
from db.fast_reads import reads_for
from discovery import CompetitorProvider, ExaProvider
from resolvers.catalog import catalog_provider
from resolvers.discovery_jobs import DiscoveryJobs, JobLimits
from resolvers.services import DiscoveryPolicy, Services
from schema import DocumentCaches

logger = logging.getLogger(__name__)

# For the competitor provider only: the issuer's keys have a session of their own.
PROVIDER_HTTP_CONNECTIONS = 100
# Key fetches are single-flight (one at a time per cache), so a tiny pool is plenty.
JWKS_HTTP_CONNECTIONS = 2


@dataclass
class Runtime:
    settings: Settings
    services: Services
    verifier: TokenVerifier
    jwks: JWKSCache
    metrics: Metrics
    dev_issuer: DevIssuer | None
    provider_http: OutboundSession
    document_caches: DocumentCaches
    deprecations: DeprecatedUsageDesk
    jwks_http: OutboundSession | None

    @property
    def discovery_jobs(self) -> DiscoveryJobs:
        jobs = self.services.discovery_jobs
        assert jobs is not None, "build_runtime always makes the job runner"
        return jobs

    async def start(self) -> None:
        """Start what runs beside the requests: the sweep for abandoned discovery jobs,
        the periodic flush of deprecated usage, and listening for other processes' changes."""
        self.discovery_jobs.start(self.services)
        self.deprecations.ledger.start()
        await self.services.changes.start()

    async def close(self) -> None:
        # Jobs first: handing them back needs the database.
        await self.discovery_jobs.close(self.services)
        # Before the pool closes: the last tallies are written with it.
        await self.deprecations.ledger.stop()
        await self.services.changes.close()
        self.metrics.close()
        await self.provider_http.close()
        if self.jwks_http is not None:
            await self.jwks_http.close()
        await self.services.reads.close()
        await self.services.engine.dispose()
        logger.info("database connection pool closed")


def build_runtime(settings: Settings, metrics: Metrics) -> Runtime:
    """Make the engine, keys and verifier; nothing here touches the network."""
    provider_http = OutboundSession(connections=PROVIDER_HTTP_CONNECTIONS)
    dev_issuer: DevIssuer | None = None
    jwks_http: OutboundSession | None = None
    fetch_keys: JWKSFetcher
    if settings.jwks_url is None:
        dev_issuer = DevIssuer.load_or_create(settings.data_dir)
        fetch_keys = dev_issuer.fetch_jwks
        issuer = settings.jwt_issuer or dev_issuer.issuer
    else:
        if not settings.jwt_issuer:
            raise ValueError("ONBOARDING_JWT_ISSUER is required with ONBOARDING_JWKS_URL")
        jwks_http = OutboundSession(connections=JWKS_HTTP_CONNECTIONS)
        fetch_keys = http_jwks_fetcher(settings.jwks_url, jwks_http)
        issuer = settings.jwt_issuer
    jwks = JWKSCache(
        fetch_keys,
        refresh_interval=settings.jwks_refresh_seconds,
        unknown_kid_cooldown=settings.jwks_unknown_kid_cooldown_seconds,
    )
    verifier = TokenVerifier(
        jwks,
        issuer=issuer,
        audience=settings.jwt_audience,
        authorized_parties=settings.authorized_parties,
        leeway_seconds=settings.jwt_leeway_seconds,
    )
    timeouts = settings.database_timeouts()
    engine = create_engine(settings.resolved_database_url, timeouts)
    services = Services(
        engine=engine,
        secret_box=secret_box_for(settings),
        discovery=DiscoveryPolicy(
            provider=metrics.measured(_competitor_provider(settings, engine, provider_http)),
            timeout_seconds=settings.provider_timeout_seconds,
            per_minute=settings.discoveries_per_minute,
            running_per_user=settings.discoveries_running_per_user,
            running_total=settings.discoveries_running_total,
            wait_margin_seconds=settings.shutdown_margin_seconds / 2,
        ),
        discovery_jobs=DiscoveryJobs(
            JobLimits(
                lease_seconds=settings.discovery_lease_seconds,
                sweep_seconds=settings.discovery_sweep_seconds,
                poll_seconds=settings.discovery_poll_seconds,
                max_attempts=settings.discovery_max_attempts,
            )
        ),
        record_job_event=metrics.record_discovery_job,
        changes=change_feed_for(engine),
        fast_reads=reads_for(engine, timeouts),
    )
    return Runtime(
        settings=settings,
        services=services,
        verifier=verifier,
        jwks=jwks,
        metrics=metrics,
        dev_issuer=dev_issuer,
        provider_http=provider_http,
        document_caches=DocumentCaches.bounded(settings.document_cache_bytes),
        deprecations=DeprecatedUsageDesk(
            notice=DeprecationNotice(
                link=settings.deprecation_link, sunset=settings.deprecation_sunset
            ),
            metrics=metrics,
            ledger=DeprecatedUsageLedger(
                engine, flush_seconds=settings.deprecated_usage_flush_seconds
            ),
        ),
        jwks_http=jwks_http,
    )


def _competitor_provider(
    settings: Settings, engine: AsyncEngine, session: OutboundSession
) -> CompetitorProvider:
    if settings.resolved_competitor_provider == "catalog":
        return catalog_provider(engine)
    # Without a key the provider answers PROVIDER_MISCONFIGURED per request,
    # which says what is wrong where a failed start would not.
    key = settings.exa_api_key.get_secret_value() if settings.exa_api_key else ""
    return ExaProvider(
        key,
        session=session,
        base_url=settings.exa_base_url,
        timeout=settings.provider_timeout_seconds,
    )
