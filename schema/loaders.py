"""Per-request loaders: within one request, each object is read from the database once.

Made fresh for every request on the context (`GraphQLContext`), so nothing read
in one request is ever served to another. Mutations read and write inside their
own transaction and do not go through these.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from db.records import ProgressRecord
from resolvers.discovery import find_discoveries
from resolvers.discovery_codec import Discovery
from resolvers.onboarding import load_progress
from resolvers.services import Services

OwnedDiscovery = tuple[str, str]
"""(user id, stored discovery id): a discovery is only ever read for its owner."""


class ProgressByUser:
    """A user's progress by user id: `viewer.onboarding`, `onboardingProgress`, aliases of
    them and `node` ids of steps all share one read.

    Not a DataLoader: a request has one viewer, so there is never a batch to gather,
    and gathering one cost a task and two more turns of the event loop per request.
    The first field to ask reads; fields asking before the read ends wait for it, and
    later ones get its record (or its error) at once.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._reads: dict[str, asyncio.Future[ProgressRecord]] = {}

    async def load(self, user_id: str) -> ProgressRecord:
        read = self._reads.get(user_id)
        if read is not None:
            return await read
        read = self._reads[user_id] = asyncio.get_running_loop().create_future()
        try:
            record = await load_progress(self._services, user_id)
        except Exception as error:
            read.set_exception(error)
            read.exception()  # marks it retrieved: no "never retrieved" log when nobody waits
            raise
        except BaseException:  # cancelled, or the process is ending
            read.cancel()
            raise
        read.set_result(record)
        return record


class DiscoveryByIdLoader(DataLoader[OwnedDiscovery, Discovery | None]):
    """Discoveries by (owner, stored id), None where the owner has no such discovery:
    every id `nodes` asks for in one statement."""

    def __init__(self, services: Services) -> None:
        async def load(keys: list[OwnedDiscovery]) -> Sequence[Discovery | None]:
            wanted: dict[str, list[str]] = defaultdict(list)
            for user_id, discovery_id in keys:
                wanted[user_id].append(discovery_id)
            found: dict[OwnedDiscovery, Discovery] = {}
            for user_id, ids in wanted.items():
                owned = await find_discoveries(services, user_id, ids)
                found.update(((user_id, key), discovery) for key, discovery in owned.items())
            return [found.get(key) for key in keys]

        super().__init__(load_fn=load)
