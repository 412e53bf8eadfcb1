"""Deprecated usage kept in the database, so "may we delete `sessionId`?" has an answer.

The metrics say it only while a process lives. Here uses are added up in
memory per coordinate, client and UTC day (a dict update: no I/O on the
request's path) and written in one statement per flush, every
`flush_seconds` and when the app stops. The pending tallies are few (the
schema's deprecated coordinates, times the bounded client labels, times days), and a flush
that fails puts its tallies back for the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.background import cancel_and_wait
from db.deprecated_usage_repository import add_deprecated_usage
from db.engine import write_transaction
from db.records import DeprecatedUsageTally
from resolvers.services import utc_now

logger = logging.getLogger(__name__)

_Key = tuple[str, str, date]


@dataclass(slots=True)
class _Pending:
    uses: int
    last_used_at: datetime


class DeprecatedUsageLedger:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_seconds: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self.clock = clock
        self._pending: dict[_Key, _Pending] = {}
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending_uses(self) -> int:
        """Uses counted in memory and not yet written."""
        return sum(pending.uses for pending in self._pending.values())

    def record(self, coordinates: Iterable[str], client: str) -> None:
        """One request used these coordinates; kept in memory until the next flush."""
        now = self.clock()
        for coordinate in coordinates:
            self._add((coordinate, client, now.date()), 1, now)

    def _add(self, key: _Key, uses: int, last_used_at: datetime) -> None:
        pending = self._pending.get(key)
        if pending is None:
            self._pending[key] = _Pending(uses, last_used_at)
        else:
            pending.uses += uses
            pending.last_used_at = max(pending.last_used_at, last_used_at)

    async def flush(self) -> None:
        """Write what is pending in one statement; on failure, keep it for the next flush."""
        async with self._flushing:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            tallies = [
                DeprecatedUsageTally(coordinate, client, day, pending.uses, pending.last_used_at)
                for (coordinate, client, day), pending in batch.items()
            ]
            try:
                async with write_transaction(self.engine) as connection:
                    await add_deprecated_usage(connection, tallies)
            except BaseException:
                for key, pending in batch.items():
                    self._add(key, pending.uses, pending.last_used_at)
                raise

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                # Shielded: stopping mid-write must not leave it unknown whether it counted.
                await asyncio.shield(self.flush())
            except Exception as error:  # the database may be down; the tallies wait
                logger.warning("could not write deprecated usage, will retry: %s", error)

    def start(self) -> None:
        """Flush every `flush_seconds` from now on (call it on the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._flush_periodically())

    async def stop(self) -> None:
        """Stop flushing periodically and write what is left."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        try:
            await self.flush()
        except Exception as error:
            logger.error("deprecated usage not written at shutdown: %s", error)
