"""Refuse operations whose calculated cost is over the maximum (`MAX_COST_EXCEEDED`).

The cost (how it is computed: `selection_walk`) depends on the variables, so it
is checked once they are known, after validation and before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_variable_values,
)
from strawberry.extensions import SchemaExtension

from schema.extensions.document_cache import DocumentCache
from schema.extensions.selection_walk import (
    Maxima,
    Pricing,
    SelectionWalker,
    Walk,
    fragments_by_name,
)

MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
# Operations (by document, operation name and maximum) priced within the maximum
# by a walk that read no variable: most operations, whose price is then the
# document's alone and is not worked out again. A price over the maximum is
# never kept: such a request is priced each time, so when its variables do not
# coerce, execution still answers that first.
WITHIN_MAXIMUM: DocumentCache[bool] = DocumentCache(max_bytes=1024 * 1024)


def price_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    max_cost: int | None = None,
) -> Walk | None:
    """The walk that prices `operation`, or None when its variables do not coerce.

    Variables that do not coerce are an error execution reports before any
    resolver runs, so such an operation costs nothing.
    """
    inputs = dict(variables) if isinstance(variables, Mapping) else {}
    coerced = get_variable_values(schema, operation.variable_definitions or (), inputs)
    if isinstance(coerced, list):
        return None
    walker = SelectionWalker(
        fragments_by_name(document), Maxima(cost=max_cost), Pricing(schema, coerced)
    )
    return walker.walk(operation)


class LimitQueryCost(SchemaExtension):
    """Computes the operation's cost after validation and answers an error instead of running it."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        query = context.query
        qualifiers = (context.operation_name, self.max_cost)
        if document is None or context.result is not None:
            pass
        elif query is not None and WITHIN_MAXIMUM.get(query, *qualifiers):
            pass  # priced before, and no variable can change that price
        elif (operation := _chosen_operation(document, context.operation_name)) is not None:
            walk = price_operation(
                context.schema._schema, document, operation, context.variables, self.max_cost
            )
            if walk is not None and walk.passed:
                refusal = self._refusal(walk, operation)
                if operation.operation is OperationType.SUBSCRIPTION:
                    # Strawberry starts a subscription's stream without looking for
                    # a result set here; raised, the refusal is its only answer.
                    raise refusal
                # A result set here is what Strawberry returns instead of executing.
                context.result = ExecutionResult(data=None, errors=[refusal])
            elif walk is not None and walk.complete and not walk.read_variables and query:
                WITHIN_MAXIMUM.put(query, True, *qualifiers)
        yield

    def _refusal(self, walk: Walk, operation: OperationDefinitionNode) -> GraphQLError:
        cost = walk.measure.cost
        amount = str(cost) if walk.complete else f"at least {cost}"
        return GraphQLError(
            f"The query costs {amount}; the maximum is {self.max_cost}."
            " Ask for fewer items (`first`) or fewer fields.",
            operation,
            extensions={"code": MAX_COST_EXCEEDED, "cost": cost, "maxCost": self.max_cost},
        )


def _chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((d for d in operations if d.name and d.name.value == operation_name), None)
