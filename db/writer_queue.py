"""SQLite writers in one process take turns in the order they arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterQueueTimeoutError(TimeoutError):
    """A writer waited longer than its budget for its turn: the database is too busy."""


class WriterQueue:
    """A first-come, first-served turn at SQLite's single write lock.

    SQLite admits one writer at a time. A writer that finds the lock taken
    sleeps and polls (busy_timeout), and whoever polls at the right moment wins,
    so under load a writer can wait many times longer than the work queued ahead
    of it. Waiting here first, in arrival order (asyncio.Lock wakes its waiters
    in order and lets no newcomer jump a waiting one), leaves at most one writer
    per process polling for the lock.
    """

    def __init__(self, wait_seconds: float) -> None:
        self._lock = asyncio.Lock()
        self._wait_seconds = wait_seconds

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait (at most `wait_seconds`) for every writer that arrived earlier, then write."""
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._lock.acquire()
        except TimeoutError:
            raise WriterQueueTimeoutError(
                f"no turn to write within {self._wait_seconds} s"
            ) from None
        try:
            yield
        finally:
            self._lock.release()
