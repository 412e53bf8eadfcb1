"""What a subscriber sees: the viewer's object now, then again after each change of it.

Each stream starts watching its topic (`resolvers/changes.py`) before it first
reads, so no change between the read and the watch is missed, and re-reads
from the database, scoped to the viewer, whenever the topic is announced. An
announcement that changed nothing the viewer can see (a repeat, or every
watch told to catch up after the listener reconnected) yields nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from db.discovery_repository import get_discovery
from db.records import DiscoveryRecord, ProgressRecord
from resolvers.changes import discovery_topic, progress_topic
from resolvers.discovery_codec import Discovery, decode
from resolvers.global_ids import discovery_key
from resolvers.onboarding import load_progress
from resolvers.services import Services


async def discovery_updates(
    services: Services, user_id: str, global_id: str
) -> AsyncGenerator[Discovery, None]:
    """The user's discovery now and at each change, ending after a final status.

    Yields nothing at all for an id that is malformed, unknown or another
    user's (the three cannot be told apart); ends early if the discovery is
    deleted (a hard reset) while it is followed.
    """
    key = discovery_key(global_id)
    if key is None:
        return
    with services.changes.watch(discovery_topic(key)) as changes:
        shown: DiscoveryRecord | None = None
        while True:
            record = await get_discovery(services.reads, user_id, key)
            if record is None:
                return
            if record != shown:
                shown = record
                yield decode(record)
            if not record.status.is_active:
                return
            await changes.next_change()


async def progress_updates(
    services: Services, user_id: str
) -> AsyncGenerator[ProgressRecord, None]:
    """The user's progress now and after every change of it, by any request in any process."""
    with services.changes.watch(progress_topic(user_id)) as changes:
        shown_version: int | None = None
        while True:
            progress = await load_progress(services, user_id)
            if progress.version != shown_version:
                shown_version = progress.version
                yield progress
            await changes.next_change()
