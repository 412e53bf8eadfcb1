"""The tables. Only SQLAlchemy lives here: no GraphQL, no onboarding rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
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


# The statuses of a job still under way (db.records.ACTIVE_STATUSES), as SQL.
ACTIVE_DISCOVERY = text("status IN ('PENDING', 'RUNNING')")


class CompetitorDiscoveryRow(Base):
    """One competitor discovery, owned by the user who asked for it; also its job.

    `result` holds the competitors, the site's social accounts and citations,
    the research summary and the shortfall as one JSON document: they are
    always read and written together and never queried into. It is null until
    the job is COMPLETED. A hard reset deletes the row; the rate limit counts
    the job's `DiscoveryReservationRow`, which outlives it.
    """

    __tablename__ = "competitor_discoveries"
    __table_args__ = (
        # Serves the history (newest first) and the cache lookup, which both read
        # one user's recent rows; it also covers lookups by user_id.
        Index("ix_competitor_discoveries_user_id_created_at", "user_id", "created_at"),
        # Single flight, enforced by the database for every process and instance:
        # one active job per user and question.
        Index(
            "uq_competitor_discoveries_active_question",
            "user_id",
            "question_hash",
            unique=True,
            sqlite_where=ACTIVE_DISCOVERY,
            postgresql_where=ACTIVE_DISCOVERY,
        ),
        # The sweep for expired leases and the count of running jobs read active rows only.
        Index(
            "ix_competitor_discoveries_active_lease",
            "lease_expires_at",
            sqlite_where=ACTIVE_DISCOVERY,
            postgresql_where=ACTIVE_DISCOVERY,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    domain: Mapped[str] = mapped_column(String(255), nullable=False)
    industry_context: Mapped[str | None] = mapped_column(String(200))
    requested_results: Mapped[int] = mapped_column(Integer, nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # sha256 of the normalised question (user, URL, industry, numResults, analysis
    # data); null for discoveries stored before jobs existed.
    question_hash: Mapped[str | None] = mapped_column(String(64))
    website_analysis_data: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    failure_code: Mapped[str | None] = mapped_column(String(32))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Provider attempts made for this job: 1 normally, more after a takeover.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DiscoveryReservationRow(Base):
    """A new discovery job counted against its user's rate limit: who, and when.

    Stored in the transaction that stores the job, before the provider is
    asked. It holds no discovery content, so a hard reset leaves it: the cost
    was paid either way. The lease sweep deletes it once it is older than the
    rate window, when it no longer counts.
    """

    __tablename__ = "discovery_reservations"
    __table_args__ = (
        Index("ix_discovery_reservations_user_id_reserved_at", "user_id", "reserved_at"),
        Index("ix_discovery_reservations_reserved_at", "reserved_at"),
    )

    # The id of the job it was made for, which a hard reset may have deleted since.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


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
