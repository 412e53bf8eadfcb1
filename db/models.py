"""The tables. Only SQLAlchemy lives here: no GraphQL, no onboarding rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.types import UTCDateTime


class ProgressRow(Base):
    """One user's onboarding; `version` guards every change against lost updates."""

    __tablename__ = "onboarding_progress"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[StepRow]] = relationship(
        back_populates="progress",
        order_by="StepRow.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class StepRow(Base):
    """One step of one user's onboarding, with its stored status.

    `data` holds only what may be shown back (secrets masked); `encrypted_secrets`
    holds the step's secrets as a Fernet token and is never read by a query.
    """

    __tablename__ = "onboarding_steps"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("onboarding_progress.user_id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    data: Mapped[Any | None] = mapped_column(JSON)
    encrypted_secrets: Mapped[bytes | None] = mapped_column(LargeBinary)
    validation_errors: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    progress: Mapped[ProgressRow] = relationship(back_populates="steps")


class CompetitorDiscoveryRow(Base):
    """One stored competitor discovery, owned by the user who asked for it.

    `result` holds the competitors, the site's social accounts and citations,
    the research summary and the shortfall as one JSON document: they are
    always read and written together and never queried into.
    """

    __tablename__ = "competitor_discoveries"
    # Serves the history (newest first), the cache lookup and the rate limit,
    # which all read one user's recent rows; it also covers lookups by user_id.
    __table_args__ = (
        Index("ix_competitor_discoveries_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    domain: Mapped[str] = mapped_column(String(255), nullable=False)
    industry_context: Mapped[str | None] = mapped_column(String(200))
    requested_results: Mapped[int] = mapped_column(Integer, nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[Any] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CatalogEntryRow(Base):
    """One company of the offline competitor catalog, unique by registrable domain."""

    __tablename__ = "catalog_entries"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    industry: Mapped[str] = mapped_column(Text, nullable=False)
    social: Mapped[Any] = mapped_column(JSON, nullable=False)


class DeprecatedUsageRow(Base):
    """How often a client used a deprecated coordinate on a UTC day (authenticated uses only).

    Rows are added to, never replaced: every process and replica upserts its
    own counts, so the table holds the service's total.
    """

    __tablename__ = "deprecated_usage"

    coordinate: Mapped[str] = mapped_column(String(255), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    uses: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
