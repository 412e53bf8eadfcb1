"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.runtime import Runtime
from auth import JWKSFetchError

router = APIRouter()
READINESS_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers; says why not otherwise."""
    runtime: Runtime = request.app.state.runtime
    try:
        # A database that does not answer at all must not hold the probe open.
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with runtime.services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    jwks_problem = await _jwks_problem(runtime)
    if jwks_problem is not None:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "jwks": jwks_problem}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})


async def _jwks_problem(runtime: Runtime) -> str | None:
    """Why no token can be verified yet (no key set ever fetched), or None.

    Asking again here lets the service recover from an issuer outage at start-up
    by itself, with no traffic but the probe.
    """
    if runtime.jwks.has_keys:
        return None
    try:
        await runtime.jwks.refresh()
    except JWKSFetchError as error:
        return str(error)
    return None
