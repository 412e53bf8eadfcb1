"""What changed, announced to subscribers in every process: by topic, never by content.

Two kinds of topic, each naming one thing a subscription follows:

- `discovery:<uuid>`: a discovery's status changed, or it was deleted;
- `progress:<hash>`: a user's progress changed. The user id is hashed: a `sub`
  may be an e-mail address, and topics are seen by anyone who can LISTEN on
  the database.

A subscriber re-reads from the database, scoped to its viewer, whatever its
topic names: a topic grants nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.services import Services

logger = logging.getLogger(__name__)


def discovery_topic(discovery_id: str) -> str:
    return f"discovery:{discovery_id}"


def progress_topic(user_id: str) -> str:
    digest = hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"progress:{digest[:32]}"


async def _publish(services: Services, topics: Iterable[str]) -> None:
    for topic in topics:
        try:
            await services.changes.publish(topic)
        except Exception:  # the change is stored; a subscriber catching up late is no failure
            logger.exception("could not announce the change %s", topic)


async def announce_discovery_change(
    services: Services, connection: AsyncConnection, discovery_id: str
) -> None:
    """A discovery's job changes status in the transaction on `connection`: other processes
    hear of it when it commits; `discovery_changed_here` tells this one after the commit."""
    await services.changes.announce_on_commit(connection, discovery_topic(discovery_id))


def discovery_changed_here(services: Services, discovery_id: str) -> None:
    """After a change `announce_discovery_change` announced committed: this process's watchers."""
    services.changes.deliver(discovery_topic(discovery_id))


async def discoveries_deleted(services: Services, discovery_ids: Iterable[str]) -> None:
    """These discoveries are gone: their subscriptions end."""
    await _publish(services, [discovery_topic(discovery_id) for discovery_id in discovery_ids])


async def announce_progress_change(
    services: Services, connection: AsyncConnection, user_id: str
) -> None:
    """The user's progress changes in the transaction on `connection`: other processes
    hear of it when it commits; `progress_changed_here` tells this one after the commit."""
    await services.changes.announce_on_commit(connection, progress_topic(user_id))


def progress_changed_here(services: Services, user_id: str) -> None:
    """After a change `announce_progress_change` announced committed: this process's watchers."""
    services.changes.deliver(progress_topic(user_id))
