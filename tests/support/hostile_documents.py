"""GraphQL documents an attacker sends, shared by the tests that refuse them."""

from __future__ import annotations


def fragment_doubling(fragments: int) -> str:
    """`{ ...FN }` where each fragment spreads the one before it twice.

    About 40 bytes a fragment; expanded, it is 3 x 2^N - 1 selections (2^N
    `__typename`s), which depth, aliases and cost do not see: `__typename` is
    one level deep, unaliased and free.
    """
    definitions = [f"query {{ ...F{fragments} }}", "fragment F0 on Query { __typename }"]
    definitions += [
        f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, fragments + 1)
    ]
    return "\n".join(definitions)


def fragment_chain(fragments: int) -> str:
    """`{ ...FN }` where each fragment spreads the one before it once.

    About 30 bytes and 8 tokens a fragment, so 230 fit the token limit; it
    expands to only N + 2 selections, but graphql-core's validation recurses
    through the chain and gives up ("Validation aborted.") past about 200.
    """
    definitions = [f"query {{ ...F{fragments} }}", "fragment F0 on Query { __typename }"]
    definitions += [f"fragment F{n} on Query {{ ...F{n - 1} }}" for n in range(1, fragments + 1)]
    return "\n".join(definitions)


def repeated_field(copies: int) -> str:
    """`{ viewer { id } }` with `viewer { id }` `copies` times: one response name, many fields.

    14 bytes and 4 tokens a copy, so 490 copies fit the token limit. Checking
    that fields of one name merge compares them pair by pair (graphql-core's
    OverlappingFieldsCanBeMerged): 490 copies are 120,000 pairs.
    """
    return "{ " + "viewer { id } " * copies + "}"
