"""The deprecated `sessionId`, spelled once for every input, argument and payload."""

from __future__ import annotations

from typing import Any

import strawberry

SESSION_ID_INPUT_REASON = "Ignored. The user comes from the bearer token. Removed in v2."
SESSION_ID_OUTPUT_REASON = "Same as viewer.id. Removed in v2."
SESSION_ID_INPUT_DESCRIPTION = (
    "Legacy session identifier from the old REST API. Accepted so old clients keep"
    " working, but ignored: the user is always the one the bearer token names."
)
SESSION_ID_OUTPUT_DESCRIPTION = (
    "Legacy session identifier; always the authenticated user's id (`viewer.id`)."
)


def session_id_input() -> Any:
    """The optional, ignored `sessionId` input field every mutation input carries."""
    return strawberry.field(
        default=None,
        description=SESSION_ID_INPUT_DESCRIPTION,
        deprecation_reason=SESSION_ID_INPUT_REASON,
    )


session_id_argument = strawberry.argument(
    description=SESSION_ID_INPUT_DESCRIPTION, deprecation_reason=SESSION_ID_INPUT_REASON
)

# The optional argument of a mutation whose input carries nothing but `sessionId`.
session_id_only_input_argument = strawberry.argument(
    description="Optional; only carries the deprecated `sessionId`."
)


def session_id_output() -> Any:
    """The payload's `sessionId`, resolved from the viewer."""
    return strawberry.field(
        description=SESSION_ID_OUTPUT_DESCRIPTION,
        deprecation_reason=SESSION_ID_OUTPUT_REASON,
    )
