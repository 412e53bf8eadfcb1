"""Assemble the Strawberry schema with the policies the service runs it under."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.extensions.count_deprecated_usage import CountDeprecatedUsage, RecordUsage
from schema.extensions.hide_suggestions import (
    ExecutorWithoutSuggestions,
    ValidationCacheWithoutSuggestions,
)
from schema.extensions.mask_unexpected_errors import MaskUnexpectedErrors
from schema.extensions.query_limits import QueryLimits
from schema.extensions.record_operation_metrics import RecordOperation, RecordOperationMetrics
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP


class OnboardingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with a traceback. Ours are expected answers
        # (UNAUTHENTICATED, validation) except the unexpected ones, which
        # MaskUnexpectedErrors already logs with their cause.
        return None


def _ignore_usage(coordinate: str, context: object) -> None:
    return None


def _ignore_operation(operation: str, seconds: float, error_codes: list[str]) -> None:
    return None


def create_schema(
    *,
    record_deprecated_usage: RecordUsage = _ignore_usage,
    record_operation: RecordOperation = _ignore_operation,
    introspection: bool = True,
    limits: QueryLimits = QueryLimits(),  # noqa: B008 - frozen, so safe as a default
) -> strawberry.Schema:
    """The schema; extensions are passed as classes or factories, never shared instances."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # First, so it exits last and counts the errors as the client sees them.
        lambda: RecordOperationMetrics(record_operation),
        MaskUnexpectedErrors,
        # Before ParserCache: the token limit must run before anything parses.
        *limits.extensions(),
        ParserCache,
        # Suggestions name schema members: off whenever introspection is.
        ValidationCache if introspection else ValidationCacheWithoutSuggestions,
        lambda: CountDeprecatedUsage(record_deprecated_usage),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return OnboardingSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=None if introspection else ExecutorWithoutSuggestions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


def schema_sdl() -> str:
    """The SDL the code defines, as committed in schema/schema.graphql."""
    return create_schema().as_str() + "\n"


__all__: Sequence[str] = ["create_schema", "schema_sdl"]
