"""Assemble the Strawberry schema with the policies the service runs it under."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import strawberry
from graphql import DocumentNode, GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from schema.default_fields import DefaultFieldsExecutor
from schema.extension_runner import HookRunner
from schema.extensions.cache_parsing import CacheParsing
from schema.extensions.cache_validation import CacheValidation
from schema.extensions.document_cache import DEFAULT_CACHE_BYTES, DocumentCache
from schema.extensions.hide_suggestions import (
    ExecutorWithoutSuggestions,
    validate_without_suggestions,
)
from schema.extensions.mask_unexpected_errors import MaskUnexpectedErrors
from schema.extensions.query_limits import QueryLimits
from schema.extensions.record_operation_metrics import RecordOperation, RecordOperationMetrics
from schema.extensions.report_deprecated_usage import (
    DocumentUsage,
    ReportDeprecatedUsage,
    deprecated_coordinates,
)
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.subscription import Subscription


class OnboardingSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context, extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with a traceback. Ours are expected answers
        # (UNAUTHENTICATED, validation) except the unexpected ones, which
        # MaskUnexpectedErrors already logs with their cause.
        return None


@dataclass(frozen=True, slots=True)
class DocumentCaches:
    """What the schema keeps per distinct document, each cache under its own byte bound."""

    parsed: DocumentCache[DocumentNode]
    validated: DocumentCache[list[GraphQLError]]
    deprecated_usage: DocumentCache[DocumentUsage]

    @classmethod
    def bounded(cls, max_bytes: int = DEFAULT_CACHE_BYTES) -> DocumentCaches:
        return cls(DocumentCache(max_bytes), DocumentCache(max_bytes), DocumentCache(max_bytes))


def _ignore_operation(operation: str, seconds: float | None, error_codes: list[str]) -> None:
    return None


def create_schema(
    *,
    record_operation: RecordOperation = _ignore_operation,
    introspection: bool = True,
    limits: QueryLimits = QueryLimits(),  # noqa: B008 - frozen, so safe as a default
    document_caches: DocumentCaches | None = None,
) -> strawberry.Schema:
    """The schema; extensions are passed as classes or factories, never shared instances.

    The caches are shared by every request the schema serves (by default, new ones).
    """
    caches = document_caches or DocumentCaches.bounded()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # First, so it exits last and counts the errors as the client sees them.
        lambda: RecordOperationMetrics(record_operation),
        MaskUnexpectedErrors,
        # Before CacheParsing: the token limit must run before anything parses.
        *limits.extensions(),
        lambda: CacheParsing(caches.parsed),
        # Suggestions name schema members: off whenever introspection is.
        lambda: CacheValidation(
            caches.validated,
            validate_document if introspection else validate_without_suggestions,
        ),
        lambda: ReportDeprecatedUsage(caches.deprecated_usage),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return OnboardingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=(
            DefaultFieldsExecutor if introspection else ExecutorWithoutSuggestions
        ),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


def schema_sdl() -> str:
    """The SDL the code defines, as committed in schema/schema.graphql."""
    return create_schema().as_str() + "\n"


def schema_deprecations() -> list[str]:
    """The schema coordinates of every deprecated field, argument and input field."""
    return deprecated_coordinates(create_schema()._schema)


__all__: Sequence[str] = ["DocumentCaches", "create_schema", "schema_deprecations", "schema_sdl"]
