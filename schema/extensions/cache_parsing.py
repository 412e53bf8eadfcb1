"""Parse each distinct document once, in place of Strawberry's `ParserCache`.

`ParserCache` keeps 128 documents keyed on their full text whatever their size;
this keeps them in a `DocumentCache` (keyed by hash, bounded by bytes).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, parse
from strawberry.extensions import SchemaExtension

from schema.extensions.document_cache import DocumentCache


class CacheParsing(SchemaExtension):
    def __init__(self, cache: DocumentCache[DocumentNode]) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            options = context.parse_options
            # A document that does not parse raises here, as under ParserCache,
            # and nothing is kept.
            context.graphql_document = self.cache.get_or_compute(
                query, lambda: parse(query, **options), tuple(sorted(options.items()))
            )
        yield
