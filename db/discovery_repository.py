"""Storing and reading users' competitor discoveries (the job state is in discovery_jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, Select, and_, bindparam, delete, func, insert, or_, select

from db.engine import Transaction
from db.fast_reads import Reads, fetch_all
from db.models import ACTIVE_DISCOVERY
from db.models import competitor_discoveries as _discoveries
from db.records import DiscoveryRecord, DiscoveryStatus
from db.rows import column_values, from_row
from db.types import UTCDateTime

# A row of any selection of columns.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]

# What a reader of a discovery sees; never the lease or the stored question.
DISCOVERY_COLUMNS = (
    _discoveries.c.id,
    _discoveries.c.user_id,
    _discoveries.c.url,
    _discoveries.c.domain,
    _discoveries.c.industry_context,
    _discoveries.c.requested_results,
    _discoveries.c.provider,
    _discoveries.c.result,
    _discoveries.c.created_at,
    _discoveries.c.status,
    _discoveries.c.failure_code,
    _discoveries.c.failure_message,
    _discoveries.c.finished_at,
)


def discovery_record(row: AnyRow, **known: Any) -> DiscoveryRecord:
    """The discovery of a row of (at least) DISCOVERY_COLUMNS but those `known` already."""
    return from_row(DiscoveryRecord, row, status=DiscoveryStatus(row.status), **known)


# Built once, its values bound at each call: building a statement per call costs
# more CPU than running it on SQLite.
_INSERT = insert(_discoveries)


async def insert_discovery(
    connection: Transaction,
    record: DiscoveryRecord,
    *,
    question_hash: str | None = None,
    website_analysis_data: Any | None = None,
    lease_owner: str | None = None,
    lease_expires_at: datetime | None = None,
) -> None:
    """Store a discovery; an active one (a new job) with its question and its holder's lease.

    A second active job for the same user and question violates the
    single-flight index (IntegrityError).
    """
    await connection.execute(
        _INSERT,
        column_values(
            record,
            status=record.status.value,
            question_hash=question_hash,
            website_analysis_data=website_analysis_data,
            # A job stored RUNNING already has its provider attempt counted.
            attempts=0 if record.status is DiscoveryStatus.PENDING else 1,
            lease_owner=lease_owner,
            lease_expires_at=lease_expires_at,
        ),
    )


async def _first_discovery(
    source: Transaction | Reads, statement: Select[Any], parameters: dict[str, Any]
) -> DiscoveryRecord | None:
    """The discovery of the statement's first row, if any.

    `source`, for every read here that takes one: a transaction's connection, or
    the fast reads outside any.
    """
    rows = await fetch_all(source, statement, parameters)
    return discovery_record(rows[0]) if rows else None


_GET_DISCOVERY = select(*DISCOVERY_COLUMNS).where(
    _discoveries.c.id == bindparam("discovery_id"), _discoveries.c.user_id == bindparam("user_id")
)


async def get_discovery(
    source: Transaction | Reads, user_id: str, discovery_id: str
) -> DiscoveryRecord | None:
    """The discovery if it exists and belongs to `user_id`; None otherwise."""
    parameters = {"discovery_id": discovery_id, "user_id": user_id}
    return await _first_discovery(source, _GET_DISCOVERY, parameters)


_FIND_ACTIVE = select(*DISCOVERY_COLUMNS).where(
    _discoveries.c.user_id == bindparam("user_id"),
    _discoveries.c.question_hash == bindparam("question_hash"),
    ACTIVE_DISCOVERY,
)


async def find_active(
    source: Transaction | Reads, user_id: str, question_hash: str
) -> DiscoveryRecord | None:
    """The user's PENDING or RUNNING job for that question, if there is one (at most one)."""
    parameters = {"user_id": user_id, "question_hash": question_hash}
    return await _first_discovery(source, _FIND_ACTIVE, parameters)


async def get_discoveries(
    connection: Transaction, user_id: str, discovery_ids: Sequence[str]
) -> list[DiscoveryRecord]:
    """Those of the discoveries that exist and belong to `user_id`, in one statement."""
    rows = (
        await connection.execute(
            select(_discoveries).where(
                _discoveries.c.id.in_(list(discovery_ids)), _discoveries.c.user_id == user_id
            )
        )
    ).all()
    return [discovery_record(row) for row in rows]


async def count_discoveries(connection: Transaction, user_id: str) -> int:
    """How many discoveries the user has."""
    count = (
        await connection.execute(
            select(func.count()).select_from(_discoveries).where(_discoveries.c.user_id == user_id)
        )
    ).scalar_one()
    return int(count)


def _active_or_recent_identical(industry_context_is_null: bool) -> Select[Any]:
    same_industry = (
        _discoveries.c.industry_context.is_(None)
        if industry_context_is_null
        else _discoveries.c.industry_context == bindparam("industry_context")
    )
    active = and_(_discoveries.c.question_hash == bindparam("question_hash"), ACTIVE_DISCOVERY)
    recent_identical = and_(
        _discoveries.c.created_at >= bindparam("since", type_=UTCDateTime),
        _discoveries.c.status == DiscoveryStatus.COMPLETED.value,
        _discoveries.c.url == bindparam("url"),
        same_industry,
        _discoveries.c.requested_results == bindparam("requested_results"),
    )
    return (
        select(*DISCOVERY_COLUMNS)
        .where(_discoveries.c.user_id == bindparam("user_id"), or_(active, recent_identical))
        # The job under way before any result (false sorts first); at most one is
        # under way (the single-flight index).
        .order_by(
            _discoveries.c.status == DiscoveryStatus.COMPLETED.value,
            _discoveries.c.created_at.desc(),
            _discoveries.c.id.desc(),
        )
        .limit(1)
    )


# By whether the industry is null: `= NULL` would match nothing.
_ACTIVE_OR_RECENT_IDENTICAL = {
    True: _active_or_recent_identical(True),
    False: _active_or_recent_identical(False),
}


async def find_active_or_recent_identical(
    source: Transaction | Reads,
    *,
    user_id: str,
    question_hash: str,
    url: str,
    industry_context: str | None,
    requested_results: int,
    since: datetime,
) -> DiscoveryRecord | None:
    """The user's job under way for the question, else the newest completed discovery
    of the same request made at or after `since`; in one statement."""
    parameters: dict[str, Any] = {
        "user_id": user_id,
        "question_hash": question_hash,
        "since": since,
        "url": url,
        "requested_results": requested_results,
    }
    if industry_context is not None:
        parameters["industry_context"] = industry_context
    statement = _ACTIVE_OR_RECENT_IDENTICAL[industry_context is None]
    return await _first_discovery(source, statement, parameters)


async def list_discoveries(
    connection: Transaction,
    user_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
) -> Sequence[DiscoveryRecord]:
    """The user's discoveries, newest first, strictly after the `before` position if given."""
    query = select(*DISCOVERY_COLUMNS).where(_discoveries.c.user_id == user_id)
    if before is not None:
        created_at, discovery_id = before
        query = query.where(
            or_(
                _discoveries.c.created_at < created_at,
                and_(_discoveries.c.created_at == created_at, _discoveries.c.id < discovery_id),
            )
        )
    query = query.order_by(_discoveries.c.created_at.desc(), _discoveries.c.id.desc()).limit(limit)
    return [discovery_record(row) for row in (await connection.execute(query)).all()]


async def delete_discoveries(connection: Transaction, user_id: str) -> list[str]:
    """Delete every discovery of the user; the ids of those deleted."""
    result = await connection.execute(
        delete(_discoveries).where(_discoveries.c.user_id == user_id).returning(_discoveries.c.id)
    )
    return list(result.scalars())
