"""Error messages without "Did you mean …?", for when introspection is off.

A suggestion names fields, arguments, types, enum values and input fields of
the schema, so a client that guesses near a name learns it: with introspection
off, suggestions would leak the schema one typo at a time. graphql-core can
leave them out (`hide_suggestions`) of validation and of variable coercion
during execution, but Strawberry passes neither flag; these two classes do.
Strawberry's own `disable_field_suggestions` only trims "Cannot query field"
messages and leaves the other suggestions in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cache, lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.execution import Executor
from graphql.validation import ASTValidationRule
from strawberry.extensions import ValidationCache
from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

__all__ = ["ExecutorWithoutSuggestions", "ValidationCacheWithoutSuggestions"]

# Strawberry's `validate_document` appends these to every rule set; so must we.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


def _validate_without_suggestions(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: Collection[type[ASTValidationRule]],
) -> list[GraphQLError]:
    return validate(schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=True)


@cache
def _shared_cache(maxsize: int | None) -> Callable[..., list[GraphQLError]]:
    # One cache per size for the process, as Strawberry's ValidationCache keeps:
    # extensions are made per request, the cache must outlive them.
    return lru_cache(maxsize=maxsize)(_validate_without_suggestions)


class ValidationCacheWithoutSuggestions(ValidationCache):
    """Strawberry's `ValidationCache`, validating with `hide_suggestions`."""

    def __init__(self, maxsize: int | None = DEFAULT_MAXSIZE) -> None:
        super().__init__(maxsize)
        self.cached_validate_document = _shared_cache(maxsize)


class ExecutorWithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, coercing variables with `hide_suggestions`.

    A variable of an input or enum type that does not coerce is reported while
    the executor is built, so that is where the flag goes.
    """

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})
