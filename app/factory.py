"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.changelog import router as changelog_router
from app.error_responses import http_error_response
from app.garbage_collection import freeze_startup_heap, thaw_heap
from app.graphql import CLIENT_NAME_HEADERS, mount_graphql
from app.health import router as health_router
from app.metrics import BoundedLabels, Metrics
from app.multiprocess_metrics import multiprocess_directory
from app.request_id import RequestIdMiddleware
from app.request_limits import RequestLimitsMiddleware
from app.runtime import Runtime, build_runtime
from app.settings import Settings, get_settings
from app.unexpected_errors import UnexpectedErrorMiddleware
from resolvers.catalog import ensure_bundled_catalog

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app for `settings` (by default, the environment's). Nothing starts until lifespan."""
    settings = settings or get_settings()
    metrics = Metrics(
        operations=BoundedLabels(
            settings.metrics_operation_names, settings.metrics_max_operation_names
        ),
        clients=BoundedLabels(settings.metrics_client_names, settings.metrics_max_client_names),
        multiprocess_directory=multiprocess_directory(),
    )
    runtime = build_runtime(settings, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await runtime.jwks.refresh()
        except Exception as error:  # the cache retries on demand; start anyway
            logger.warning("could not prefetch the issuer's JWKS: %s", error)
        try:
            await ensure_bundled_catalog(runtime.services.engine)
        except Exception as error:  # /readyz reports a database that is down; start anyway
            logger.warning("could not load the bundled competitor catalog: %s", error)
        await runtime.start()
        collector_thresholds = freeze_startup_heap()
        try:
            yield
        finally:
            thaw_heap(collector_thresholds)
            await runtime.close()

    app = FastAPI(
        title="Onboarding API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    # Unknown routes and wrong methods answer like every other refusal.
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    # Inside CORS, so a refused request still carries the CORS headers the browser needs.
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_read_timeout=settings.body_read_timeout_seconds,
    )
    # Inside CORS too, so a browser can read the 500 it answers.
    app.add_middleware(UnexpectedErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", *CLIENT_NAME_HEADERS],
        )
    # Added last so it is outermost: every response, even an error, carries the id.
    app.add_middleware(RequestIdMiddleware)
    mount_graphql(app, runtime)
    app.include_router(health_router)
    app.include_router(changelog_router)
    _mount_metrics(app, metrics)
    if runtime.dev_issuer is not None:
        _mount_dev_jwks(app, runtime)
    return app


def _mount_metrics(app: FastAPI, metrics: Metrics) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        # Off the event loop: requests go on being served while a scrape is written.
        exposition = await asyncio.to_thread(metrics.exposition)
        return Response(exposition, media_type=CONTENT_TYPE_LATEST)


def _mount_dev_jwks(app: FastAPI, runtime: Runtime) -> None:
    dev_issuer = runtime.dev_issuer
    assert dev_issuer is not None

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def dev_jwks() -> dict[str, object]:
        return dev_issuer.jwks()
