"""A discovery's job state: who holds it (a lease), its slot among running jobs, how it ended.

Every transition is one compare-and-set UPDATE on the row (the holder, the
status, an expired lease), so two processes can never both make the same one;
each returns the row as it is now, or None when another process got there first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    TextClause,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)

from db.advisory_locks import take_lock
from db.discovery_repository import DISCOVERY_COLUMNS, AnyRow, discovery_record
from db.engine import Transaction
from db.models import ACTIVE_DISCOVERY
from db.models import competitor_discoveries as _discoveries
from db.records import DiscoveryJob, DiscoveryRecord, DiscoveryStatus
from db.rows import column_values, from_row

_JOB_COLUMNS = (
    *DISCOVERY_COLUMNS,
    _discoveries.c.website_analysis_data,
    _discoveries.c.attempts,
    _discoveries.c.lease_owner,
    _discoveries.c.lease_expires_at,
)
# What a compare-and-set UPDATE requires of the row it changes.
_Conditions: TypeAlias = tuple[ColumnElement[bool] | TextClause, ...]
_RUNNING = DiscoveryStatus.RUNNING.value
_PENDING = DiscoveryStatus.PENDING.value
_SUBMISSIONS_LOCK = "onboarding.discovery.submissions:"
_SLOTS_LOCK = "onboarding.discovery.slots"


def _job(row: AnyRow) -> DiscoveryJob:
    return from_row(DiscoveryJob, row, record=discovery_record(row))


def _held(
    job_id: str | BindParameter[str], owner: str | BindParameter[str], status: str
) -> _Conditions:
    """The job, while `owner` holds it in `status` (values, or parameters bound at each call)."""
    return (
        _discoveries.c.id == job_id,
        _discoveries.c.lease_owner == owner,
        _discoveries.c.status == status,
    )


def _still_held(job_ids: Collection[str], owner: str) -> _Conditions:
    """Those of the jobs still active and held by `owner`."""
    return (
        _discoveries.c.id.in_(list(job_ids)),
        _discoveries.c.lease_owner == owner,
        ACTIVE_DISCOVERY,
    )


def _expired(job_id: str, now: datetime) -> _Conditions:
    """The job, while it is active and its lease has run out."""
    return (_discoveries.c.id == job_id, ACTIVE_DISCOVERY, _discoveries.c.lease_expires_at < now)


def _ended(
    status: DiscoveryStatus, now: datetime, failure: tuple[str, str] | None
) -> dict[str, Any]:
    """A final status, with why it failed; an ended job keeps no holder, lease or question."""
    code, message = failure if failure is not None else (None, None)
    return {
        "status": status.value,
        "failure_code": code,
        "failure_message": message,
        "finished_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
        "website_analysis_data": None,
    }


async def _job_after(connection: Transaction, change: Update) -> DiscoveryJob | None:
    """Run the compare-and-set `change`: the job as it is now, or None if it did not apply."""
    row = (await connection.execute(change.returning(*_JOB_COLUMNS))).first()
    return _job(row) if row is not None else None


async def _record_after(connection: Transaction, change: Update) -> DiscoveryRecord | None:
    """Run the compare-and-set `change`: the discovery as it is now, or None if it did not apply."""
    row = (await connection.execute(change.returning(*DISCOVERY_COLUMNS))).first()
    return discovery_record(row) if row is not None else None


def submissions_lock(user_id: str) -> str:
    """The lock a transaction holds while it decides on a new job of the user
    (`write_transaction(engine, serialised_by=...)`)."""
    return _SUBMISSIONS_LOCK + user_id


async def serialise_slot_claims(connection: Transaction) -> None:
    """Until this transaction ends, no other may start a job (the running counts hold)."""
    await take_lock(connection, _SLOTS_LOCK)


# Built once: a statement built per call costs more CPU (construction and its
# cache key) than running it on SQLite.
_COUNT_RUNNING = select(
    func.count().label("in_all"),
    func.coalesce(
        func.sum(case((_discoveries.c.user_id == bindparam("user_id"), 1), else_=0)), 0
    ).label("of_user"),
).where(
    ACTIVE_DISCOVERY,
    _discoveries.c.status == _RUNNING,
    _discoveries.c.lease_expires_at > bindparam("now"),
)


async def count_running(connection: Transaction, user_id: str, now: datetime) -> tuple[int, int]:
    """Jobs RUNNING under a live lease: in all, and of this user."""
    row = (await connection.execute(_COUNT_RUNNING, {"user_id": user_id, "now": now})).one()
    return int(row[0]), int(row[1])


# A new job's columns but the two its provider slot decides (status, attempts).
_NEW_JOB_COLUMNS = tuple(
    column.name for column in _discoveries.c if column.name not in ("status", "attempts")
)
_RUNNING_NOW = _COUNT_RUNNING.subquery("running_now")
_SLOT_FREE = and_(
    _RUNNING_NOW.c.in_all < bindparam("running_total", type_=Integer),
    _RUNNING_NOW.c.of_user < bindparam("running_per_user", type_=Integer),
)
# The running jobs are counted by the INSERT that stores the new one (an aggregate
# gives one row), so the claim costs no statement of its own; the count is as true
# as a separate one under the slots lock, taken by a statement before this one.
_INSERT_JOB = (
    insert(_discoveries)
    .from_select(
        [*_NEW_JOB_COLUMNS, "status", "attempts"],
        select(
            *(bindparam(name, type_=_discoveries.c[name].type) for name in _NEW_JOB_COLUMNS),
            case((_SLOT_FREE, _RUNNING), else_=_PENDING),
            # A job stored RUNNING already has its provider attempt counted.
            case((_SLOT_FREE, 1), else_=0),
        ).select_from(_RUNNING_NOW),
    )
    .returning(_discoveries.c.status)
)


async def insert_job(
    connection: Transaction,
    record: DiscoveryRecord,
    *,
    question_hash: str,
    website_analysis_data: Any | None,
    lease_owner: str,
    lease_expires_at: datetime,
    running_total: int,
    running_per_user: int,
) -> DiscoveryRecord:
    """Store a new job and claim it a provider slot: the job as stored.

    RUNNING when fewer than `running_total` jobs run under a live lease, fewer
    than `running_per_user` of them the user's, else PENDING; `record.status`
    is not used. Call it under `serialise_slot_claims`. A second active job for
    the same user and question violates the single-flight index (IntegrityError).
    """
    parameters = column_values(
        record,
        question_hash=question_hash,
        website_analysis_data=website_analysis_data,
        lease_owner=lease_owner,
        lease_expires_at=lease_expires_at,
    )
    del parameters["status"]
    parameters |= {
        "now": record.created_at,
        "running_total": running_total,
        "running_per_user": running_per_user,
    }
    status = (await connection.execute(_INSERT_JOB, parameters)).scalar_one()
    return replace(record, status=DiscoveryStatus(status))


async def start_running(
    connection: Transaction, job_id: str, owner: str, lease_until: datetime
) -> DiscoveryJob | None:
    """PENDING → RUNNING for the lease holder, counting one more provider attempt."""
    return await _job_after(
        connection,
        update(_discoveries)
        .where(*_held(job_id, owner, _PENDING))
        .values(
            status=_RUNNING, attempts=_discoveries.c.attempts + 1, lease_expires_at=lease_until
        ),
    )


async def renew_leases(
    connection: Transaction, job_ids: Collection[str], owner: str, lease_until: datetime
) -> set[str]:
    """Extend the holder's leases on these active jobs; the ids it still holds."""
    if not job_ids:
        return set()
    rows = await connection.execute(
        update(_discoveries)
        .where(*_still_held(job_ids, owner))
        .values(lease_expires_at=lease_until)
        .returning(_discoveries.c.id)
    )
    return {row.id for row in rows}


# The values of its SET clause are bound at each call (`_ended` names them). It does
# not return the result it stores: decoding it back would give what was just encoded.
_FINISH = (
    update(_discoveries)
    .where(*_held(bindparam("b_id"), bindparam("b_owner"), _RUNNING))
    .returning(*(column for column in DISCOVERY_COLUMNS if column is not _discoveries.c.result))
)


async def finish_job(
    connection: Transaction,
    job_id: str,
    owner: str,
    *,
    now: datetime,
    provider: str,
    result: dict[str, Any] | None,
    failure: tuple[str, str] | None,
) -> DiscoveryRecord | None:
    """RUNNING → COMPLETED (with `result`) or FAILED (with `failure`: code, message)."""
    status = DiscoveryStatus.FAILED if failure else DiscoveryStatus.COMPLETED
    row = (
        await connection.execute(
            _FINISH,
            {
                "b_id": job_id,
                "b_owner": owner,
                "provider": provider,
                "result": result,
                **_ended(status, now, failure),
            },
        )
    ).first()
    return discovery_record(row, result=result) if row is not None else None


async def expired_jobs(
    connection: Transaction, now: datetime, *, limit: int
) -> Sequence[DiscoveryJob]:
    """Active jobs whose lease ran out (their process died or let them go), oldest first."""
    rows = await connection.execute(
        select(*_JOB_COLUMNS)
        .where(ACTIVE_DISCOVERY, _discoveries.c.lease_expires_at < now)
        .order_by(_discoveries.c.lease_expires_at)
        .limit(limit)
    )
    return [_job(row) for row in rows]


async def take_over(
    connection: Transaction, job_id: str, owner: str, now: datetime, lease_until: datetime
) -> DiscoveryJob | None:
    """An expired job becomes `owner`'s, PENDING again until it gets a slot."""
    return await _job_after(
        connection,
        update(_discoveries)
        .where(*_expired(job_id, now))
        .values(status=_PENDING, lease_owner=owner, lease_expires_at=lease_until),
    )


async def fail_expired(
    connection: Transaction, job_id: str, now: datetime, *, code: str, message: str
) -> DiscoveryRecord | None:
    """An expired job that may not be tried again becomes FAILED."""
    return await _record_after(
        connection,
        update(_discoveries)
        .where(*_expired(job_id, now))
        .values(**_ended(DiscoveryStatus.FAILED, now, (code, message))),
    )


async def release_jobs(
    connection: Transaction, job_ids: Collection[str], owner: str, now: datetime
) -> Sequence[DiscoveryRecord]:
    """The holder lets these active jobs go: PENDING, lease expired now, for any process."""
    if not job_ids:
        return []
    rows = await connection.execute(
        update(_discoveries)
        .where(*_still_held(job_ids, owner))
        .values(status=_PENDING, lease_owner=None, lease_expires_at=now)
        .returning(*DISCOVERY_COLUMNS)
    )
    return [discovery_record(row) for row in rows]


__all__ = [
    "count_running",
    "expired_jobs",
    "fail_expired",
    "finish_job",
    "insert_job",
    "release_jobs",
    "renew_leases",
    "serialise_slot_claims",
    "start_running",
    "submissions_lock",
    "take_over",
]
