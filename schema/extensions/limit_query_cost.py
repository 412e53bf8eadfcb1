"""Refuse operations whose calculated cost is over the maximum (`MAX_COST_EXCEEDED`).

The cost is computed the way Shopify's calculated query cost is, before any
resolver runs: every field returning an object costs 1, scalars and enums 0,
and a list multiplies the cost of its items by how many it can hold: the
`first` argument where the field takes one (a connection's `edges` inherit the
connection's `first`), else the list's known maximum, else `DEFAULT_LIST_SIZE`.
Introspection costs nothing: its answer is bounded by the schema, not the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from strawberry.extensions import SchemaExtension

from schema.competitor_discovery_connection import MAX_FIRST
from schema.extensions.operation_limit import fragments_by_name

MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
DEFAULT_LIST_SIZE = 10
"""Items assumed in a list with neither `first` nor a known size."""

KNOWN_LIST_SIZES: Mapping[str, int] = {
    "OnboardingProgress.steps": 6,
    "CompetitorDiscovery.competitors": 100,  # numResults is at most 100
    "CompetitorDiscovery.socialMediaCitations": 6,  # one per platform
    "Query.nodes": 100,  # MAX_NODE_IDS in schema/node_lookup.py
}


def _is_list(field_type: GraphQLOutputType) -> bool:
    unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(unwrapped, GraphQLList)


class _CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def first_argument(self, node: FieldNode, field: GraphQLField) -> int | None:
        """The page size a field with a `first` argument was asked for (or its default)."""
        if "first" not in field.args:
            return None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            # A connection never returns more than MAX_FIRST (a larger `first` is an
            # INVALID_ARGUMENT error of the field), so that is the most it can cost.
            if isinstance(value, IntValueNode):
                return min(max(int(value.value), 0), MAX_FIRST)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return min(max(given, 0), MAX_FIRST)
            break
        default = field.args["first"].default_value
        return default if isinstance(default, int) else DEFAULT_LIST_SIZE

    def selection_cost(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        page_size: int | None,
        visiting: frozenset[str],
    ) -> int:
        if selection_set is None or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(parent, selection, page_size, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                if on is not None:
                    total += self.selection_cost(on, selection.selection_set, page_size, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value)
                if on is not None:
                    total += self.selection_cost(
                        on, fragment.selection_set, page_size, visiting | {name}
                    )
        return total

    def field_cost(
        self,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        node: FieldNode,
        page_size: int | None,
        visiting: frozenset[str],
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # introspection, and __typename
        field = parent.fields.get(name)
        if field is None:
            return 0
        named = get_named_type(field.type)
        if not is_composite_type(named):
            return 0
        first = self.first_argument(node, field)
        if _is_list(field.type):
            size = first or page_size or KNOWN_LIST_SIZES.get(f"{parent.name}.{name}")
            items = size if size is not None else DEFAULT_LIST_SIZE
            return items * (1 + self.selection_cost(named, node.selection_set, None, visiting))
        # A connection: its own lists (edges) hold as many as its `first` asked for.
        return 1 + self.selection_cost(named, node.selection_set, first, visiting)


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The calculated cost of one (valid) operation with `variables`."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    calculator = _CostCalculator(schema, fragments, variables or {})
    return calculator.selection_cost(root, operation.selection_set, None, frozenset())


class LimitQueryCost(SchemaExtension):
    """Computes the operation's cost after validation and answers an error instead of running it."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            fragments = fragments_by_name(document)
            operation = _chosen_operation(document.definitions, context.operation_name)
            if operation is not None:
                cost = operation_cost(
                    context.schema._schema, operation, fragments, context.variables
                )
                if cost > self.max_cost:
                    # A result set here is what Strawberry returns instead of executing.
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                f"The query costs {cost}; the maximum is {self.max_cost}."
                                " Ask for fewer items (`first`) or fewer fields.",
                                operation,
                                extensions={
                                    "code": MAX_COST_EXCEEDED,
                                    "cost": cost,
                                    "maxCost": self.max_cost,
                                },
                            )
                        ],
                    )
        yield


def _chosen_operation(
    definitions: Any, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((d for d in operations if d.name and d.name.value == operation_name), None)
