"""Revision 0003 turns the discoveries stored before jobs into COMPLETED jobs, and back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from db.discovery_repository import get_discovery
from db.engine import create_engine, read_transaction, write_transaction
from db.migrate import downgrade, upgrade
from db.records import DiscoveryRecord, DiscoveryStatus
from db.types import UTCDateTime
from resolvers.discovery_codec import decode

MADE_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RESULT = {
    "competitors": [{"url": "https://www.rival.com/", "domain": "rival.com"}],
    "social_media_accounts": {
        network: None
        for network in ("facebook", "twitter", "instagram", "linkedin", "youtube", "tiktok")
    },
    "social_media_citations": [],
    "research_summary": {
        "total_competitors": 1,
        "high_threat_count": 0,
        "competitive_landscape": "emerging",
        "key_findings": ["One competitor."],
    },
    "shortfall": 0,
}
# The table as revision 0002 left it.
_V2 = sa.table(
    "competitor_discoveries",
    sa.column("id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("url", sa.String),
    sa.column("domain", sa.String),
    sa.column("industry_context", sa.String),
    sa.column("requested_results", sa.Integer),
    sa.column("provider", sa.String),
    sa.column("result", sa.JSON),
    sa.column("created_at", UTCDateTime),
)


async def _store_v2_discovery(url: str, discovery_id: str) -> None:
    engine = create_engine(url)
    try:
        async with write_transaction(engine) as connection:
            await connection.execute(
                sa.insert(_V2).values(
                    id=discovery_id,
                    user_id="early-user",
                    url="https://acme.com/",
                    domain="acme.com",
                    industry_context=None,
                    requested_results=1,
                    provider="catalog",
                    result=RESULT,
                    created_at=MADE_AT,
                )
            )
    finally:
        await engine.dispose()


async def _read(url: str, discovery_id: str) -> tuple[DiscoveryRecord, int, str | None]:
    engine = create_engine(url)
    try:
        async with read_transaction(engine) as connection:
            record = await get_discovery(connection, "early-user", discovery_id)
            job = (
                await connection.execute(
                    sa.text("SELECT attempts, question_hash FROM competitor_discoveries")
                )
            ).one()
    finally:
        await engine.dispose()
    assert record is not None
    return record, job.attempts, job.question_hash


def test_discoveries_made_before_jobs_become_completed_jobs(empty_database_url: str) -> None:
    # given a discovery stored at revision 0002 (synchronous, stored only on success)
    upgrade(empty_database_url, "0002")
    discovery_id = str(uuid.uuid4())
    asyncio.run(_store_v2_discovery(empty_database_url, discovery_id))
    # when the database is brought to the newest revision
    upgrade(empty_database_url)
    record, attempts, question = asyncio.run(_read(empty_database_url, discovery_id))
    # then it is a COMPLETED job, finished when it was made, after one provider attempt
    assert record.status is DiscoveryStatus.COMPLETED
    assert record.finished_at == MADE_AT
    assert record.failure_code is None
    assert (attempts, question) == (1, None)
    # and it reads as before
    found = decode(record)
    assert [c.domain for c in found.competitors] == ["rival.com"]
    # and going back to 0002 keeps it
    downgrade(empty_database_url, "0002")
    upgrade(empty_database_url)
    again, _, _ = asyncio.run(_read(empty_database_url, discovery_id))
    assert again.result == RESULT
