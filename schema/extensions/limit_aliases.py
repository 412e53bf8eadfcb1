"""Refuse operations that use more aliases than allowed (`TOO_MANY_ALIASES`) before they run.

Aliases let one request ask for the same expensive field many times over; they
are counted per operation, each time a fragment is spread.
"""

from __future__ import annotations

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

TOO_MANY_ALIASES = "TOO_MANY_ALIASES"


def count_aliases(
    selection_set: SelectionSetNode | None,
    fragments: Fragments,
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Aliased fields below `selection_set`, following fragments (cycles are not followed)."""
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += (selection.alias is not None) + count_aliases(
                selection.selection_set, fragments, visiting
            )
        elif isinstance(selection, InlineFragmentNode):
            total += count_aliases(selection.selection_set, fragments, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                total += count_aliases(fragment.selection_set, fragments, visiting | {name})
    return total


@cache
def aliases_rule(max_aliases: int) -> type[ValidationRule]:
    """The validation rule for `max_aliases`; one class per limit, so validation stays cacheable."""

    def refuse(aliases: int, operation: OperationDefinitionNode) -> GraphQLError:
        return GraphQLError(
            f"The operation uses {aliases} aliases; the maximum is {max_aliases}.",
            operation,
            extensions={"code": TOO_MANY_ALIASES, "aliases": aliases, "maxAliases": max_aliases},
        )

    return operation_limit_rule(count_aliases, max_aliases, refuse)


class LimitAliases(AddValidationRules):
    """Adds the alias rule to validation, so an alias bomb never executes."""

    def __init__(self, max_aliases: int) -> None:
        super().__init__([aliases_rule(max_aliases)])
