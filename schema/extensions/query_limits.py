"""The query limits of DESIGN §11, as the extension factories the schema runs with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from strawberry.extensions import SchemaExtension

from schema.extensions.limit_aliases import LimitAliases
from schema.extensions.limit_query_cost import LimitQueryCost
from schema.extensions.limit_query_depth import LimitQueryDepth
from schema.extensions.limit_tokens import LimitTokens


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Defaults as in DESIGN §11; `app.settings.Settings` can change each."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 1000

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Factories, never shared instances: each request gets its own extensions."""
        return [
            lambda: LimitTokens(self.max_tokens),
            lambda: LimitQueryDepth(self.max_depth),
            lambda: LimitAliases(self.max_aliases),
            lambda: LimitQueryCost(self.max_cost),
        ]
