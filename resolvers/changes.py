"""What changed, announced to subscribers in every process: by topic, never by content.

Two kinds of topic, each naming one thing a subscription follows:

- `discovery:<uuid>`: a discovery's status changed, or it was deleted;
- `progress:<hash>`: a user's progress changed. The user id is hashed: a `sub`
  may be an e-mail address, and topics are seen by anyone who can LISTEN on
  the database.

A change made in a transaction is announced by that transaction
(`ChangeFeed.announce_on_commit`: other processes hear of it when it commits,
never if it rolls back) and told to this process's watchers once it committed
(`ChangeFeed.deliver`). A subscriber re-reads from the database, scoped to its
viewer, whatever its topic names: a topic grants nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

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


async def discoveries_deleted(services: Services, discovery_ids: Iterable[str]) -> None:
    """These discoveries are gone: their subscriptions end."""
    await _publish(services, [discovery_topic(discovery_id) for discovery_id in discovery_ids])
