"""Find every deprecated field, argument and input field an operation uses, and say so.

graphql-core's NoDeprecatedCustomRule crashes on deprecated arguments of
code-first schemas, and it cannot see input fields sent in variables; this
walks the document with TypeInfo and the variables' values itself.

What an operation used is reported to the GraphQL context (a
`DeprecatedUsageSink`); what to answer and what to count is decided at the
HTTP edge, which knows who asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    ObjectFieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    type_from_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from schema.extensions.document_cache import DocumentCache


@runtime_checkable
class DeprecatedUsageSink(Protocol):
    """A GraphQL context that wants to know which deprecated coordinates were used."""

    def note_deprecated_usage(self, coordinates: frozenset[str]) -> None: ...


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
class DocumentUsage:
    """What a document uses regardless of its variables, and which variables to look into."""

    coordinates: frozenset[str]
    variables: tuple[tuple[str, GraphQLInputType], ...]


def document_usage(schema: GraphQLSchema, document: DocumentNode) -> DocumentUsage:
    type_info = TypeInfo(schema)
    finder = _DeprecatedInDocument(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    variables = []
    for definition in document.definitions:
        for variable in getattr(definition, "variable_definitions", None) or ():
            variable_type = type_from_ast(schema, variable.type)
            if variable_type is not None:
                variables.append((variable.variable.name.value, variable_type))
    return DocumentUsage(frozenset(finder.coordinates), tuple(variables))


def _with_variables(usage: DocumentUsage, variables: Mapping[str, Any] | None) -> frozenset[str]:
    coordinates = set(usage.coordinates)
    for name, variable_type in usage.variables:
        if variables and name in variables:
            coordinates.update(_deprecated_in_value(variable_type, variables[name]))
    return frozenset(coordinates)


def deprecated_coordinates(schema: GraphQLSchema) -> list[str]:
    """Every deprecated field, argument and input field of the schema, spelled as reported."""
    found: list[str] = []
    for type_name, named_type in schema.type_map.items():
        if type_name.startswith("__"):
            continue
        if isinstance(named_type, GraphQLObjectType):
            for field_name, field in named_type.fields.items():
                if field.deprecation_reason:
                    found.append(f"{type_name}.{field_name}")
                found.extend(
                    f"{type_name}.{field_name}({argument_name}:)"
                    for argument_name, argument in field.args.items()
                    if argument.deprecation_reason
                )
        elif isinstance(named_type, GraphQLInputObjectType):
            found.extend(
                f"{type_name}.{field_name}"
                for field_name, input_field in named_type.fields.items()
                if input_field.deprecation_reason
            )
    return sorted(found)


_SINK_TYPES: dict[type, bool] = {}


def _is_sink(context: object) -> bool:
    # Once per context class: isinstance against a runtime Protocol inspects the
    # class's members each time it is asked.
    kind = type(context)
    if kind not in _SINK_TYPES:
        _SINK_TYPES[kind] = isinstance(context, DeprecatedUsageSink)
    return _SINK_TYPES[kind]


class ReportDeprecatedUsage(SchemaExtension):
    """Tells the context which deprecated coordinates an executed operation uses.

    A document's own usage is worked out once per distinct document (walking it
    with TypeInfo costs about as much as executing a small query, and clients
    send the same few documents over and over); its variables, every time.
    """

    def __init__(self, cache: DocumentCache[DocumentUsage]) -> None:
        self.cache = cache

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        sink = context.context
        document = context.graphql_document
        if document is not None and _is_sink(sink):
            schema = context.schema._schema
            usage = (
                self.cache.get_or_compute(context.query, lambda: document_usage(schema, document))
                if context.query is not None
                else document_usage(schema, document)
            )
            coordinates = _with_variables(usage, context.variables)
            if coordinates:
                sink.note_deprecated_usage(coordinates)
        yield
