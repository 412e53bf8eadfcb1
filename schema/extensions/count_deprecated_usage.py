"""Find every deprecated field, argument and input field an operation uses.

graphql-core's NoDeprecatedCustomRule crashes on deprecated arguments of
code-first schemas, and it cannot see input fields sent in variables; this
walks the document with TypeInfo and the variables' values itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ObjectFieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    type_from_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

RecordUsage = Callable[[str, Any], None]
"""Called once per deprecated coordinate an operation uses, with the GraphQL context."""


class _DeprecatedInDocument(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.coordinates: set[str] = set()

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        definition = self.type_info.get_field_def()
        parent = self.type_info.get_parent_type()
        if definition is not None and parent is not None and definition.deprecation_reason:
            self.coordinates.add(f"{parent.name}.{node.name.value}")

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        argument = self.type_info.get_argument()
        field = self.type_info.get_field_def()
        parent = self.type_info.get_parent_type()
        if argument is None or field is None or parent is None or not argument.deprecation_reason:
            return
        field_name = next(name for name, candidate in parent.fields.items() if candidate is field)  # type: ignore[union-attr]
        self.coordinates.add(f"{parent.name}.{field_name}({node.name.value}:)")

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if isinstance(parent, GraphQLInputObjectType):
            field = parent.fields.get(node.name.value)
            if field is not None and field.deprecation_reason:
                self.coordinates.add(f"{parent.name}.{node.name.value}")


def _deprecated_in_value(input_type: GraphQLInputType, value: Any) -> Iterator[str]:
    if isinstance(input_type, GraphQLNonNull):
        yield from _deprecated_in_value(input_type.of_type, value)
    elif isinstance(input_type, GraphQLList) and isinstance(value, list):
        for item in value:
            yield from _deprecated_in_value(input_type.of_type, item)
    elif isinstance(input_type, GraphQLInputObjectType) and isinstance(value, Mapping):
        for name, field in input_type.fields.items():
            if name not in value:
                continue
            if field.deprecation_reason:
                yield f"{input_type.name}.{name}"
            yield from _deprecated_in_value(field.type, value[name])


@dataclass(frozen=True, slots=True)
class _DocumentUsage:
    """What a document uses regardless of its variables, and which variables to look into."""

    coordinates: frozenset[str]
    variables: tuple[tuple[str, GraphQLInputType], ...]


def _document_usage(schema: GraphQLSchema, document: DocumentNode) -> _DocumentUsage:
    type_info = TypeInfo(schema)
    finder = _DeprecatedInDocument(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    variables = []
    for definition in document.definitions:
        for variable in getattr(definition, "variable_definitions", None) or ():
            variable_type = type_from_ast(schema, variable.type)
            if variable_type is not None:
                variables.append((variable.variable.name.value, variable_type))
    return _DocumentUsage(frozenset(finder.coordinates), tuple(variables))


@lru_cache(maxsize=1024)
def _usage_of_query(schema: GraphQLSchema, query: str) -> _DocumentUsage:
    # Walking a document with TypeInfo costs about as much as executing a small
    # query, and clients send the same few documents over and over.
    return _document_usage(schema, parse(query))


def _with_variables(usage: _DocumentUsage, variables: Mapping[str, Any] | None) -> set[str]:
    coordinates = set(usage.coordinates)
    for name, variable_type in usage.variables:
        if variables and name in variables:
            coordinates.update(_deprecated_in_value(variable_type, variables[name]))
    return coordinates


class CountDeprecatedUsage(SchemaExtension):
    """Reports each deprecated coordinate an executed operation uses to `record`."""

    def __init__(self, record: RecordUsage) -> None:
        self.record = record

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            schema = context.schema._schema
            usage = (
                _usage_of_query(schema, context.query)
                if context.query is not None
                else _document_usage(schema, context.graphql_document)
            )
            for coordinate in sorted(_with_variables(usage, context.variables)):
                self.record(coordinate, context.context)
        yield
