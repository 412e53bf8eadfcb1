"""Refuse operations that use more aliases than allowed (`TOO_MANY_ALIASES`) before they run.

Aliases let one request ask for the same expensive field many times over; they
are counted per operation, each time a fragment is spread.
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

TOO_MANY_ALIASES = "TOO_MANY_ALIASES"


def count_aliases(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
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

    class AliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            aliases = count_aliases(node.selection_set, self.fragments)
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The operation uses {aliases} aliases; the maximum is {max_aliases}.",
                        node,
                        extensions={
                            "code": TOO_MANY_ALIASES,
                            "aliases": aliases,
                            "maxAliases": max_aliases,
                        },
                    )
                )

    return AliasesRule


class LimitAliases(SchemaExtension):
    """Adds the alias rule to validation, so an alias bomb never executes."""

    def __init__(self, max_aliases: int) -> None:
        self.rule = aliases_rule(max_aliases)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, self.rule)
        yield
