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

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules

from schema.extensions.operation_limit import Fragments, operation_limit_rule

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
# graphql-core's own MaxIntrospectionDepthRule (fields { type { fields ... } } past
# three levels) reports this without a code; it is a depth limit too.
INTROSPECTION_TOO_DEEP = "Maximum introspection depth exceeded"


OF_TYPE = "ofType"


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: Fragments,
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

    def refuse(depth: int, operation: OperationDefinitionNode) -> GraphQLError:
        return GraphQLError(
            f"The operation is {depth} fields deep; the maximum is {max_depth}.",
            operation,
            extensions={"code": QUERY_TOO_DEEP, "depth": depth, "maxDepth": max_depth},
        )

    return operation_limit_rule(selection_depth, max_depth, refuse)


class LimitQueryDepth(AddValidationRules):
    """Adds the depth rule to validation, so a too-deep operation never executes."""

    def __init__(self, max_depth: int) -> None:
        super().__init__([depth_rule(max_depth)])

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if error.message == INTROSPECTION_TOO_DEEP and not error.extensions:
                error.extensions = {"code": QUERY_TOO_DEEP}
