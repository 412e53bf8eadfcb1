"""Hide what a client must not see of an unexpected failure, and log it for us."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from db.availability import is_database_unavailable

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"

logger = logging.getLogger(__name__)


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver raised something that is not a GraphQL error we meant to show.

    Errors without a path come from parsing, validation or variable coercion and
    describe the client's own document, so they stay as they are.
    """
    return (
        error.path is not None
        and error.original_error is not None
        and not isinstance(error.original_error, GraphQLError)
    )


class MaskUnexpectedErrors(MaskErrors):
    """Like Strawberry's MaskErrors, but errors we raise on purpose keep their codes.

    The masked error carries `extensions.code = INTERNAL_SERVER_ERROR` and the
    request id (also in the server's log line, so support can find the cause),
    and nothing of the exception: no message, traceback, SQL or file path.
    A database that cannot be reached is no bug: that error says
    `SERVICE_UNAVAILABLE` instead, which the HTTP edge (`app/graphql_http.py`)
    answers with 503 and Retry-After.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error.")

    def _process_result(self, result: object) -> None:
        # Most results have no errors: then there is nothing to look at (MaskErrors'
        # own check is a runtime Protocol isinstance, about 10 µs a request).
        if getattr(result, "errors", None):
            super()._process_result(result)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", None)
        if error.original_error is not None and is_database_unavailable(error.original_error):
            return self._database_unavailable(error, request_id)
        logger.error(
            "unexpected error resolving %s",
            ".".join(str(part) for part in error.path or ()),
            exc_info=error.original_error,
            extra={"request_id": request_id},
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        if request_id is not None:
            masked.extensions["requestId"] = request_id
        return masked

    def _database_unavailable(self, error: GraphQLError, request_id: str | None) -> GraphQLError:
        # The database cannot be reached: a passing outage, not a bug. The code
        # tells the client (and the HTTP edge) to retry; nothing of the cause shows.
        logger.warning(
            "database unavailable resolving %s: %s",
            ".".join(str(part) for part in error.path or ()),
            type(error.original_error).__name__,
            extra={"request_id": request_id},
        )
        extensions: dict[str, object] = {"code": SERVICE_UNAVAILABLE}
        if request_id is not None:
            extensions["requestId"] = request_id
        return GraphQLError(
            "The service is temporarily unavailable; try again shortly.",
            nodes=error.nodes,
            path=error.path,
            extensions=extensions,
        )
