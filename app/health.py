"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.runtime import Runtime

logger = logging.getLogger(__name__)
router = APIRouter()
READINESS_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and tokens can be checked.

    Anyone may ask, so the answer names the failing part and nothing more: no
    URL, no error text (the log has those). A missing key set is fetched here
    too, under the key cache's cooldown, so the service recovers from an issuer
    outage at start-up with no traffic but the probe, and probes cannot make it
    hammer the issuer.
    """
    runtime: Runtime = request.app.state.runtime
    try:
        # A database that does not answer at all must not hold the probe open.
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with runtime.services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means "not ready"
        logger.warning("not ready: the database did not answer: %r", error)
        return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
    if not await runtime.jwks.ready():
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "jwks": "unavailable"}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})
