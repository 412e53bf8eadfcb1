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
    """Defaults as in DESIGN §11; the app builds one from its settings."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 1000
    max_recursive_selections: int = 10_000
    overlapping_fields_budget: int = 20_000

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
