"""Stopping the background tasks a process runs beside its requests."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and return once it has stopped; its cancellation is not raised here."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
