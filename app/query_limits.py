"""The GraphQL query limits (DESIGN §11) the settings ask for.

Built here, at the edge that assembles the schema, so that reading settings
never imports the schema (and with it every type, resolver and provider).
"""

from __future__ import annotations

from app.settings import Settings
from schema.extensions.query_limits import QueryLimits


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_query_cost,
        max_recursive_selections=settings.max_recursive_selections,
        overlapping_fields_budget=settings.overlapping_fields_budget,
    )
