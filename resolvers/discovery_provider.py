"""One provider attempt of a discovery job, and the provider's answer as a row stores it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from discovery import DiscoveryRequest, DiscoveryResult, ProviderError, summarise_research
from discovery.sanitise import sanitise_result
from resolvers.catalog import catalog_provider
from resolvers.discovery_codec import encode_result
from resolvers.errors import ErrorCode, Problem
from resolvers.services import DiscoveryPolicy, Services

logger = logging.getLogger(__name__)

# The provider enforces its own total timeout; this backstop only catches a
# provider that does not, so it must never fire first.
_BACKSTOP_SECONDS = 0.5


def policy_of(services: Services) -> DiscoveryPolicy:
    return services.discovery or DiscoveryPolicy(provider=catalog_provider(services.engine))


def _provider_problem(error: ProviderError) -> Problem:
    try:
        code = ErrorCode(error.code)
    except ValueError:
        code = ErrorCode.PROVIDER_UNAVAILABLE
    return Problem(code, error.message)


async def ask_provider(
    policy: DiscoveryPolicy, request: DiscoveryRequest
) -> dict[str, Any] | Problem:
    """The provider's answer as the discovery row stores it, or the user error it failed with."""
    unavailable = Problem(
        ErrorCode.PROVIDER_UNAVAILABLE,
        "The competitor search provider is unavailable right now; please try again later.",
    )
    try:
        async with asyncio.timeout(policy.timeout_seconds + _BACKSTOP_SECONDS):
            answer = await policy.provider.discover(request)
    except ProviderError as error:
        return _provider_problem(error)
    except TimeoutError:
        return unavailable
    except Exception:  # a provider bug must reach the client as a user error, not a 500
        logger.exception("competitor provider %s failed unexpectedly", policy.provider.name)
        return unavailable
    return stored_answer(answer)


def stored_answer(answer: DiscoveryResult) -> dict[str, Any]:
    """The one place a provider's output becomes what the database stores: sanitised first."""
    safe = sanitise_result(answer)
    return encode_result(safe, summarise_research(safe))
