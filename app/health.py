"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime import Runtime

logger = logging.getLogger(__name__)
router = APIRouter()
# The probe answers within this; orchestrators time it out soon after (Kubernetes: 1 s
# by default, commonly raised to a few).
READINESS_TIMEOUT_SECONDS = 2.0
# Kept back from the budget for everything around the database question.
_ANSWER_MARGIN_SECONDS = 0.5


class DatabaseProbe:
    """Asks the database `SELECT 1`, one question at a time however many probes arrive.

    A probe that runs out of time answers at once and leaves the question to
    finish in the background (within the engine's own timeouts), rather than
    cancelling it and waiting while the driver closes a connection to a server
    that no longer answers. Later probes wait on that same question.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._asking: asyncio.Task[str | None] | None = None

    async def problem(self, wait_seconds: float) -> str | None:
        """Why the database cannot be used (an exception name), or None; waits `wait_seconds`."""
        if self._asking is None or self._asking.done():
            self._asking = asyncio.create_task(self._ask())
        done, _ = await asyncio.wait({self._asking}, timeout=wait_seconds)
        if not done:
            return "TimeoutError"
        return self._asking.result()

    async def _ask(self) -> str | None:
        try:
            async with self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure to reach the database means "not ready"
            return type(error).__name__
        return None


_probes: weakref.WeakKeyDictionary[AsyncEngine, DatabaseProbe] = weakref.WeakKeyDictionary()


def _probe_for(engine: AsyncEngine) -> DatabaseProbe:
    probe = _probes.get(engine)
    if probe is None:
        probe = _probes[engine] = DatabaseProbe(engine)
    return probe


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
    started = time.monotonic()
    probe = _probe_for(runtime.services.engine)
    # A database that does not answer at all must not hold the probe open.
    database_problem = await probe.problem(READINESS_TIMEOUT_SECONDS - _ANSWER_MARGIN_SECONDS)
    if database_problem is not None:
        logger.warning("not ready: the database did not answer: %s", database_problem)
        return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
    remaining = READINESS_TIMEOUT_SECONDS - _ANSWER_MARGIN_SECONDS - (time.monotonic() - started)
    try:
        # The key fetch is shared and outlives this probe if it takes longer.
        keys_ready = await asyncio.wait_for(runtime.jwks.ready(), timeout=max(remaining, 0.01))
    except TimeoutError:
        keys_ready = False
    if not keys_ready:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "jwks": "unavailable"}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})
