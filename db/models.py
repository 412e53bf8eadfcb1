"""The tables, as SQLAlchemy Core: what the repositories query and Alembic compares.

Only SQLAlchemy lives here: no GraphQL, no onboarding rules.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from db.types import UTCDateTime

# Constraint names every database keeps the same, so migrations can name them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A competitor discovery's id, a UUID as text; a discovery reservation's id is its job's.
DISCOVERY_ID = String(36)

# One user's onboarding; `version` guards every change against lost updates.
onboarding_progress = Table(
    "onboarding_progress",
    metadata,
    Column("user_id", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
)

# One step of one user's onboarding, with its stored status. `data` holds only
# what may be shown back (secrets masked); `encrypted_secrets` holds the step's
# secrets as a Fernet token and is never read by a query.
onboarding_steps = Table(
    "onboarding_steps",
    metadata,
    Column(
        "user_id",
        ForeignKey("onboarding_progress.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("data", JSON),
    Column("encrypted_secrets", LargeBinary),
    Column("validation_errors", JSON, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The statuses of a job still under way (db.records.ACTIVE_STATUSES), as SQL.
ACTIVE_DISCOVERY = text("status IN ('PENDING', 'RUNNING')")

# One competitor discovery, owned by the user who asked for it; also its job.
# `result` holds the competitors, the site's social accounts and citations, the
# research summary and the shortfall as one JSON document: they are always read
# and written together and never queried into. It is null until the job is
# COMPLETED. A hard reset deletes the row; the rate limit counts the job's
# reservation in `discovery_reservations`, which outlives it.
competitor_discoveries = Table(
    "competitor_discoveries",
    metadata,
    Column("id", DISCOVERY_ID, primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("industry_context", String(200)),
    Column("requested_results", Integer, nullable=False),
    Column("provider", String(32), nullable=False),
    Column("result", JSON(none_as_null=True)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    # sha256 of the normalised question (user, URL, industry, numResults, analysis
    # data); null for discoveries stored before jobs existed.
    Column("question_hash", String(64)),
    Column("website_analysis_data", JSON(none_as_null=True)),
    Column("failure_code", String(32)),
    Column("failure_message", Text),
    # Provider attempts made for this job: 1 normally, more after a takeover.
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_expires_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    # Serves the history (newest first), the cache lookup and the rate limit,
    # which all read one user's recent rows; it also covers lookups by user_id.
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

# One company of the offline competitor catalog, unique by registrable domain.
catalog_entries = Table(
    "catalog_entries",
    metadata,
    Column("domain", String(255), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("industry", Text, nullable=False),
    Column("social", JSON, nullable=False),
)

# A new discovery job counted against its user's rate limit: who, and when.
# Stored in the transaction that stores the job, before the provider is asked.
# It holds no discovery content, so a hard reset leaves it: the cost was paid
# either way. The lease sweep deletes it once it is older than the rate window,
# when it no longer counts. Its id is the job's, which a reset may have deleted.
discovery_reservations = Table(
    "discovery_reservations",
    metadata,
    Column("id", DISCOVERY_ID, primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("reserved_at", UTCDateTime, nullable=False),
    Index("ix_discovery_reservations_user_id_reserved_at", "user_id", "reserved_at"),
    Index("ix_discovery_reservations_reserved_at", "reserved_at"),
)


# How often a client used a deprecated coordinate on a UTC day (authenticated
# uses only). Rows are added to, never replaced: every process and replica
# upserts its own counts, so the table holds the service's total.
deprecated_usage = Table(
    "deprecated_usage",
    metadata,
    Column("coordinate", String(255)),
    Column("client", String(64)),
    Column("day", Date),
    Column("uses", BigInteger, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("coordinate", "client", "day"),
)
