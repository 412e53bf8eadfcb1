"""The competitor discovery use cases: discover (cached, rate-limited), read, list.

Cache and rate limit live in the database, not in the process, so any number of
app processes sharing one database agree on both. The provider is called
outside any transaction: a slow provider never holds a database lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db.discovery_repository import (
    count_created_since,
    count_discoveries,
    find_recent_identical,
    get_discoveries,
    get_discovery,
    insert_discovery,
    list_discoveries,
)
from db.engine import read_transaction, write_transaction
from db.records import DiscoveryRecord
from discovery import DiscoveryRequest, DiscoveryResult, ProviderError, summarise_research
from discovery.sanitise import sanitise_result
from resolvers.catalog import catalog_provider
from resolvers.discovery_codec import Discovery, decode, encode_result, research_step_data
from resolvers.discovery_input import DiscoveryForm, check_discovery_form
from resolvers.errors import ErrorCode, Problem
from resolvers.global_ids import discovery_key
from resolvers.services import DiscoveryPolicy, Services

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)
# The provider enforces its own total timeout; this backstop only catches a
# provider that does not, so it must never fire first.
_BACKSTOP_SECONDS = 0.5
DISCOVERY_ID_FIELD = ("input", "discoveryId")


@dataclass(frozen=True, slots=True)
class DiscoveryOutcome:
    discovery: Discovery | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class DiscoveryPage:
    discoveries: tuple[Discovery, ...]
    has_next_page: bool


def policy_of(services: Services) -> DiscoveryPolicy:
    return services.discovery or DiscoveryPolicy(provider=catalog_provider(services.engine))


def _rate_limited(policy: DiscoveryPolicy, oldest: datetime | None, now: datetime) -> Problem:
    wait = (oldest + RATE_WINDOW - now).total_seconds() if oldest is not None else 1.0
    seconds = max(1, math.ceil(wait))
    return Problem(
        ErrorCode.RATE_LIMITED,
        f"At most {policy.per_minute} new discoveries a minute; try again in {seconds} seconds.",
    )


def _provider_problem(error: ProviderError) -> Problem:
    try:
        code = ErrorCode(error.code)
    except ValueError:
        code = ErrorCode.PROVIDER_UNAVAILABLE
    return Problem(code, error.message)


async def _ask_provider(
    policy: DiscoveryPolicy, request: DiscoveryRequest
) -> DiscoveryResult | Problem:
    unavailable = Problem(
        ErrorCode.PROVIDER_UNAVAILABLE,
        "The competitor search provider is unavailable right now; please try again later.",
    )
    try:
        async with asyncio.timeout(policy.timeout_seconds + _BACKSTOP_SECONDS):
            return await policy.provider.discover(request)
    except ProviderError as error:
        return _provider_problem(error)
    except TimeoutError:
        return unavailable
    except Exception:  # a provider bug must reach the client as a user error, not a 500
        logger.exception("competitor provider %s failed unexpectedly", policy.provider.name)
        return unavailable


async def discover_competitors(
    services: Services, user_id: str, form: DiscoveryForm
) -> DiscoveryOutcome:
    """A stored discovery for the form: the cached one if allowed, else a new one."""
    request, problems = check_discovery_form(form)
    if request is None:
        return DiscoveryOutcome(None, tuple(problems))
    policy = policy_of(services)
    now = services.clock()
    async with read_transaction(services.engine) as connection:
        if not form.refresh:
            cached = await find_recent_identical(
                connection,
                user_id=user_id,
                url=request.site.url,
                industry_context=request.industry_context,
                requested_results=request.num_results,
                since=now - policy.cache_ttl,
            )
            if cached is not None:
                return DiscoveryOutcome(decode(cached, cached=True))
        made, oldest = await count_created_since(connection, user_id, now - RATE_WINDOW)
    # Concurrent requests of one user can each pass this check before any of
    # them stores its discovery: the limit is exact for sequential requests and
    # overshoots by at most the number in flight at once.
    if made >= policy.per_minute:
        return DiscoveryOutcome(None, (_rate_limited(policy, oldest, now),))

    answer = await _ask_provider(policy, request)
    if isinstance(answer, Problem):
        return DiscoveryOutcome(None, (answer,))
    record = DiscoveryRecord(
        id=str(uuid.uuid4()),
        user_id=user_id,
        url=request.site.url,
        domain=request.site.registrable_domain,
        industry_context=request.industry_context,
        requested_results=request.num_results,
        provider=answer.provider,
        result=encode_result(safe := sanitise_result(answer), summarise_research(safe)),
        created_at=services.clock(),
    )
    async with write_transaction(services.engine) as connection:
        await insert_discovery(connection, record)
    return DiscoveryOutcome(decode(record))


async def find_discovery(services: Services, user_id: str, global_id: str) -> Discovery | None:
    """The viewer's discovery with that global id; None if malformed, unknown or not theirs."""
    key = discovery_key(global_id)
    if key is None:
        return None
    async with read_transaction(services.engine) as connection:
        record = await get_discovery(connection, user_id, key)
    return decode(record) if record is not None else None


async def find_discoveries(
    services: Services, user_id: str, discovery_ids: Sequence[str]
) -> dict[str, Discovery]:
    """The user's discoveries among `discovery_ids` (stored ids), by id; others are left out."""
    async with read_transaction(services.engine) as connection:
        records = await get_discoveries(connection, user_id, discovery_ids)
    return {record.id: decode(record) for record in records}


async def discovery_count(services: Services, user_id: str) -> int:
    """How many discoveries the user has, for a connection's `totalCount`."""
    async with read_transaction(services.engine) as connection:
        return await count_discoveries(connection, user_id)


async def discovery_page(
    services: Services, user_id: str, *, first: int, after: tuple[datetime, str] | None
) -> DiscoveryPage:
    """Up to `first` of the user's discoveries, newest first, after the `after` position."""
    async with read_transaction(services.engine) as connection:
        records: Sequence[DiscoveryRecord] = await list_discoveries(
            connection, user_id, limit=first + 1, before=after
        )
    return DiscoveryPage(
        discoveries=tuple(decode(record) for record in records[:first]),
        has_next_page=len(records) > first,
    )


async def research_step_input(
    services: Services, user_id: str, number: int, data: object, global_id: str
) -> tuple[object, Problem | None]:
    """Step data made from one of the user's discoveries, or why it cannot be.

    Other keys the client sent in `data` are kept; the discovery's competitors
    and summary replace any the client sent.
    """
    if number != 3:
        message = "discoveryId is only accepted for step 3 (AI Research)."
        return data, Problem(ErrorCode.VALIDATION_FAILED, message, DISCOVERY_ID_FIELD)
    if data is not None and not isinstance(data, Mapping):
        return data, None  # the step's own checks report it at ["input", "data"]
    discovery = await find_discovery(services, user_id, global_id)
    if discovery is None:
        message = "No competitor discovery of yours has that id."
        return data, Problem(ErrorCode.NOT_FOUND, message, DISCOVERY_ID_FIELD)
    sent: dict[str, Any] = dict(data or {})
    return {**sent, **research_step_data(discovery)}, None
