"""The reference "naive REST" app: how the old backend served onboarding progress and steps.

FastAPI, PyJWT decode against the issuer's public key and an SQLAlchemy ORM
session (the ORM mapping lives here: the service itself queries the Core
tables): `GET /api/onboarding/progress` reads the same progress rows;
`POST /api/onboarding/steps/{number}` completes a step the naive way (read
the progress and its steps, change the step, bump the progress, commit), with
no rules beyond the website check step 2 needs. Run with uvicorn's factory mode:
`uvicorn bench.naive_rest:create_app --factory`, configured by environment:
BENCH_DATABASE_URL, BENCH_PUBLIC_KEY_PEM_FILE, BENCH_ISSUER.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Body, FastAPI, Header, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship, selectinload

from db.engine import create_engine, engine_write_transaction
from db.models import onboarding_progress, onboarding_steps

STEP_COUNT = 6


class _Mapped(DeclarativeBase):
    pass


class StepRow(_Mapped):
    __table__ = onboarding_steps
    number: Mapped[int]
    status: Mapped[str]
    data: Mapped[Any]
    validation_errors: Mapped[list[str]]
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ProgressRow(_Mapped):
    __table__ = onboarding_progress
    user_id: Mapped[str]
    version: Mapped[int]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    steps: Mapped[list[StepRow]] = relationship(order_by=onboarding_steps.c.number)


def create_app() -> FastAPI:
    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    public_key = Path(os.environ["BENCH_PUBLIC_KEY_PEM_FILE"]).read_bytes()
    issuer = os.environ["BENCH_ISSUER"]
    app = FastAPI()

    def user_id(authorization: str) -> str:
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
        sub: str = claims["sub"]
        return sub

    @app.get("/api/onboarding/progress")
    async def progress(authorization: str = Header()) -> dict[str, Any]:
        claims = {"sub": user_id(authorization)}
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

    @app.post("/api/onboarding/steps/{number}")
    async def complete_step(
        number: int,
        data: Annotated[dict[str, Any], Body()],
        authorization: Annotated[str, Header()],
    ) -> dict[str, Any]:
        user = user_id(authorization)
        website = data.get("website")
        if number == 2 and not (isinstance(website, str) and website.startswith("http")):
            raise HTTPException(422, "website must be an http(s) URL")
        # On SQLite a deferred transaction that reads, then writes, fails at once
        # under concurrent writers ("database is locked"); the service's write
        # transaction begins IMMEDIATE, so the session joins one of those.
        async with engine_write_transaction(engine) as connection:
            session = AsyncSession(bind=connection, expire_on_commit=False)
            row = (
                await session.execute(
                    select(ProgressRow)
                    .where(ProgressRow.user_id == user)
                    .options(selectinload(ProgressRow.steps))
                )
            ).scalar_one_or_none()
            if row is None or not 1 <= number <= len(row.steps):
                raise HTTPException(404, "no such step")
            now = datetime.now(UTC)
            step = row.steps[number - 1]
            step.status = "COMPLETED"
            step.data = data
            step.validation_errors = []
            step.completed_at = now
            step.updated_at = now
            row.version += 1
            row.updated_at = now
            await session.flush()
        return {"step": {"number": step.number, "status": step.status}}

    return app
