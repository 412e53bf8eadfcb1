"""Refuse operations nested deeper than a maximum (`QUERY_TOO_DEEP`) before they run.

Depth is the number of fields on the longest path from the operation's root,
through fragments, introspection fields included: `{ viewer { id } }` is 2.
One exception: a chain of `ofType` counts as one level. `__Type.ofType` only
unwraps List/NonNull wrappers (answering null past them), and the standard
introspection query nests it nine deep, which alone would be 15 levels. The
recursion that matters (`fields { type { fields { type ...`) counts in full.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
# graphql-core's own MaxIntrospectionDepthRule (fields { type { fields ... } } past
# three levels) reports this without a code; it is a depth limit too.
INTROSPECTION_TOO_DEEP = "Maximum introspection depth exceeded"


OF_TYPE = "ofType"


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str] = frozenset(),
    parent_field: str | None = None,
) -> int:
    """Fields on the longest path below `selection_set` (fragment cycles are not followed)."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            step = 0 if name == OF_TYPE and parent_field == OF_TYPE else 1
            depth = step + selection_depth(selection.selection_set, fragments, visiting, name)
        elif isinstance(selection, InlineFragmentNode):
            depth = selection_depth(selection.selection_set, fragments, visiting, parent_field)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue  # unknown fragments and cycles are reported by the standard rules
            depth = selection_depth(
                fragment.selection_set, fragments, visiting | {name}, parent_field
            )
        else:
            continue
        deepest = max(deepest, depth)
    return deepest


@cache
def depth_rule(max_depth: int) -> type[ValidationRule]:
    """The validation rule for `max_depth`; one class per limit, so validation stays cacheable."""

    class QueryDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = selection_depth(node.selection_set, self.fragments)
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The operation is {depth} fields deep; the maximum is {max_depth}.",
                        node,
                        extensions={"code": QUERY_TOO_DEEP, "depth": depth, "maxDepth": max_depth},
                    )
                )

    return QueryDepthRule


class LimitQueryDepth(SchemaExtension):
    """Adds the depth rule to validation, so a too-deep operation never executes."""

    def __init__(self, max_depth: int) -> None:
        self.rule = depth_rule(max_depth)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, self.rule)
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if error.message == INTROSPECTION_TOO_DEEP and not error.extensions:
                error.extensions = {"code": QUERY_TOO_DEEP}
