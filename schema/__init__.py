"""GraphQL types, inputs, payloads and scalars, and the schema built from them."""

from schema.build import DocumentCaches, create_schema, schema_deprecations, schema_sdl
from schema.context import GraphQLContext

__all__ = ["DocumentCaches", "GraphQLContext", "create_schema", "schema_deprecations", "schema_sdl"]
