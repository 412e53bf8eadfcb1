"""The query limits of DESIGN §11, as the extension factories the schema runs with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from strawberry.extensions import SchemaExtension

from schema.extensions.limit_overlapping_fields import LimitOverlappingFields
from schema.extensions.limit_query_cost import LimitQueryCost
from schema.extensions.limit_selections import LimitSelections
from schema.extensions.limit_tokens import LimitTokens


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Defaults as in DESIGN §11; the app builds one from its settings.

    Every limit is checked before any resolver runs: the tokens before the document
    is parsed, the cost once the variables are known, the others as it is validated.
    """

    max_depth: int = 12
    """Fields on the longest path from the root (`QUERY_TOO_DEEP`)."""
    max_aliases: int = 30
    """Aliased fields, counted each time their fragment is spread (`TOO_MANY_ALIASES`)."""
    max_tokens: int = 2000
    """Tokens of the document, comments excluded (`TOO_MANY_TOKENS`)."""
    max_cost: int = 1000
    """The calculated cost (`selection_walk`): 1 for each object a field returns, lists
    counted at the most they can hold (`MAX_COST_EXCEEDED`)."""
    max_recursive_selections: int = 10_000
    """Fields, inline fragments and spreads once every fragment is expanded where it is
    spread, so that a small document cannot stand for a huge operation
    (`MAX_RECURSIVE_SELECTIONS_EXCEEDED`)."""
    overlapping_fields_budget: int = 20_000
    """The work of checking that same-named fields merge, two units for each pair of fields
    compared (`TOO_MANY_OVERLAPPING_FIELDS`)."""

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Factories, never shared instances: each request gets its own extensions."""
        return [
            lambda: LimitTokens(self.max_tokens),
            lambda: LimitSelections(
                self.max_depth, self.max_aliases, self.max_recursive_selections
            ),
            lambda: LimitOverlappingFields(self.overlapping_fields_budget),
            lambda: LimitQueryCost(self.max_cost),
        ]
