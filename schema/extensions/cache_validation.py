"""Validate each distinct document once per set of rules, in place of `ValidationCache`.

`ValidationCache` keeps 128 results keyed on the parsed document (and so keeps
the documents alive); this keeps them in a `DocumentCache` keyed by the text's
hash and the rules, charged for every node an error still points at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.extensions.document_cache import DocumentCache

Validate = Callable[
    [GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]
]


class CacheValidation(SchemaExtension):
    def __init__(
        self, cache: DocumentCache[list[GraphQLError]], validate: Validate = validate_document
    ) -> None:
        self.cache = cache
        self.validate = validate

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query is not None and document is not None:
            schema = context.schema._schema
            rules = context.validation_rules
            context.pre_execution_errors = self.cache.get_or_compute(
                context.query,
                lambda: self.validate(schema, document, rules),
                tuple(sorted(context.parse_options.items())),
                rules,
                self.validate,
            )
        yield
