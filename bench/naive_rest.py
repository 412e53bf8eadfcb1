"""The reference "naive REST" app: how the old backend served /api/onboarding/progress.

FastAPI, PyJWT decode against the issuer's public key, one SQLAlchemy ORM
session read of the same progress rows (the ORM mapping lives here: the service
itself queries the Core tables). Run with uvicorn's factory mode:
`uvicorn bench.naive_rest:create_app --factory`, configured by environment:
BENCH_DATABASE_URL, BENCH_PUBLIC_KEY_PEM_FILE, BENCH_ISSUER.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship, selectinload

from db.engine import create_engine
from db.models import onboarding_progress, onboarding_steps

STEP_COUNT = 6


class _Mapped(DeclarativeBase):
    pass


class StepRow(_Mapped):
    __table__ = onboarding_steps
    number: Mapped[int]
    status: Mapped[str]
    data: Mapped[Any]
    completed_at: Mapped[datetime | None]


class ProgressRow(_Mapped):
    __table__ = onboarding_progress
    user_id: Mapped[str]
    completed_at: Mapped[datetime | None]
    steps: Mapped[list[StepRow]] = relationship(order_by=onboarding_steps.c.number)


def create_app() -> FastAPI:
    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    public_key = Path(os.environ["BENCH_PUBLIC_KEY_PEM_FILE"]).read_bytes()
    issuer = os.environ["BENCH_ISSUER"]
    app = FastAPI()

    @app.get("/api/onboarding/progress")
    async def progress(authorization: str = Header()) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                authorization.removeprefix("Bearer "),
                public_key,
                algorithms=["RS256"],
                issuer=issuer,
                leeway=60,
            )
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid token") from None
        async with sessions() as session:
            row = (
                await session.execute(
                    select(ProgressRow)
                    .where(ProgressRow.user_id == claims["sub"])
                    .options(selectinload(ProgressRow.steps))
                )
            ).scalar_one_or_none()
        if row is None:
            raise HTTPException(404, "no progress")
        done = sum(1 for step in row.steps if step.status in {"COMPLETED", "SKIPPED"})
        current = next(
            (s.number for s in row.steps if s.status not in {"COMPLETED", "SKIPPED"}), STEP_COUNT
        )
        return {
            "sessionId": row.user_id,
            "currentStep": current,
            "completionPercentage": round(done / STEP_COUNT * 100, 1),
            "isCompleted": row.completed_at is not None,
            "steps": [
                {
                    "number": step.number,
                    "status": step.status,
                    "data": step.data,
                    "completedAt": step.completed_at.isoformat() if step.completed_at else None,
                }
                for step in row.steps
            ],
        }

    return app
