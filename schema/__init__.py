"""GraphQL types, inputs, payloads and scalars, and the schema built from them."""

from schema.build import create_schema, schema_sdl
from schema.context import GraphQLContext

__all__ = ["GraphQLContext", "create_schema", "schema_sdl"]
