"""Waiting for something another task, thread or process makes true: polled, bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(
    condition: Callable[[], bool], *, within: float = 30.0, what: str = "the condition"
) -> float:
    """Wait for `condition`; how many seconds it took. Fails the test after `within` seconds."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what}: not true within {within} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started
