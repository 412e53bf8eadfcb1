"""Error messages without "Did you mean …?", for when introspection is off.

A suggestion names fields, arguments, types, enum values and input fields of
the schema, so a client that guesses near a name learns it: with introspection
off, suggestions would leak the schema one typo at a time. graphql-core can
leave them out (`hide_suggestions`) of validation and of variable coercion
during execution, but Strawberry passes neither flag; these two do.
Strawberry's own `disable_field_suggestions` only trims "Cannot query field"
messages and leaves the other suggestions in.
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.execution import Executor
from graphql.validation import ASTValidationRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.default_fields import DefaultFieldsExecutor

__all__ = ["ExecutorWithoutSuggestions", "validate_without_suggestions"]

# Strawberry's `validate_document` appends these to every rule set; so must we.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


def validate_without_suggestions(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """Strawberry's `validate_document`, with `hide_suggestions`."""
    return validate(schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=True)


class ExecutorWithoutSuggestions(DefaultFieldsExecutor):
    """Our executor, coercing variables with `hide_suggestions`.

    A variable of an input or enum type that does not coerce is reported while
    the executor is built, so that is where the flag goes.
    """

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})
