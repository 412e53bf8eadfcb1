"""The GraphQL query limits (DESIGN §11) the settings ask for.

Built here, at the edge that assembles the schema, so that reading settings
never imports the schema (and with it every type, resolver and provider).
"""

from __future__ import annotations

from app.settings import Settings
from schema.extensions.query_limits import QueryLimits

# The settings of the limits named otherwise; every other limit is the setting of its name.
RENAMED_LIMITS = {"max_depth": "max_query_depth", "max_cost": "max_query_cost"}


def query_limits(settings: Settings) -> QueryLimits:
    return settings.fill(QueryLimits, RENAMED_LIMITS)
