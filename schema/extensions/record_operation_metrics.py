"""Time every GraphQL operation and report its name, duration and error codes.

Listed first among the schema's extensions so that its exit runs last: it sees
the errors as the client does, after masking.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

RecordOperation = Callable[[str, float | None, list[str]], None]
"""Called once per operation with its name, its duration in seconds and its error codes.

A subscription's duration is None: it lasts as long as its client keeps it, which
says nothing about how fast the service answers.
"""

# A client names its operations; anything that is not a plausible GraphQL name
# is reported as one label, so a hostile client cannot mint label values freely.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


def operation_label(name: str | None) -> str:
    if name is None:
        return "anonymous"
    return name if _NAME.fullmatch(name) else "invalid_name"


def error_code(error: GraphQLError) -> str:
    """The error's `extensions.code`, or the kind of request error it is."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "UNKNOWN"


class RecordOperationMetrics(SchemaExtension):
    def __init__(self, record: RecordOperation) -> None:
        self.record = record

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context
        try:
            yield
        except Exception as raised:
            # Strawberry ends some operations (a document that does not parse, say)
            # by raising through the hooks; it answers the error as the only one.
            codes = [error_code(raised) if isinstance(raised, GraphQLError) else "UNKNOWN"]
            self._record(started, codes)
            raise
        errors = getattr(context.result, "errors", None) or context.pre_execution_errors or ()
        self._record(started, [error_code(error) for error in errors])

    def _record(self, started: float, codes: list[str]) -> None:
        name = operation_label(self.execution_context.operation_name)
        seconds = None if self._is_subscription() else time.perf_counter() - started
        self.record(name, seconds, codes)

    def _is_subscription(self) -> bool:
        try:
            return self.execution_context.operation_type is OperationType.SUBSCRIPTION
        except RuntimeError:  # no document: it did not parse
            return False
