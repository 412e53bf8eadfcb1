"""Refuse documents of more tokens than allowed (`TOO_MANY_TOKENS`) before they are parsed.

The lexer stops one token past the maximum, so a huge document costs no more
than a document at the limit; the count of a document is cached like its parse.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError, Lexer, Source, TokenKind
from strawberry.extensions import SchemaExtension

from schema.extensions.document_cache import DocumentCache

TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
# A count is a small int: about 2,000 documents' counts fit in this bound.
TOKEN_COUNTS: DocumentCache[int] = DocumentCache(max_bytes=1024 * 1024)


def count_tokens(query: str, stop_after: int) -> int:
    """Tokens in `query` (comments excluded), counting no further than `stop_after`.

    A lexical error ends the count: the parser reports it properly.
    """
    return TOKEN_COUNTS.get_or_compute(query, lambda: _count(query, stop_after), stop_after)


def _count(query: str, stop_after: int) -> int:
    lexer = Lexer(Source(query))
    count = 0
    try:
        while count < stop_after and lexer.advance().kind != TokenKind.EOF:
            count += 1
    except GraphQLSyntaxError:
        pass
    return count


class LimitTokens(SchemaExtension):
    """Counts the document's tokens before the parser builds anything from them."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query and count_tokens(query, self.max_tokens + 1) > self.max_tokens:
            # Raised from the parse hook, before any parser runs: Strawberry answers
            # it as the operation's only error, with no data.
            raise GraphQLError(
                f"The document has more than {self.max_tokens} tokens.",
                extensions={"code": TOO_MANY_TOKENS, "maxTokens": self.max_tokens},
            )
        yield
