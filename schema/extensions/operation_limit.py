"""What the per-operation validation limits share: measure each operation, refuse past a maximum."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

Fragments = Mapping[str, FragmentDefinitionNode]
Measure = Callable[[SelectionSetNode, Fragments], int]
Refusal = Callable[[int, OperationDefinitionNode], GraphQLError]


def fragments_by_name(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def operation_limit_rule(measure: Measure, maximum: int, refuse: Refusal) -> type[ValidationRule]:
    """A validation rule reporting `refuse(measured, operation)` when `measure` exceeds `maximum`.

    Callers cache the class per maximum: CacheValidation keys on the rule classes.
    """

    class OperationLimitRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = fragments_by_name(context.document)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            measured = measure(node.selection_set, self.fragments)
            if measured > maximum:
                self.report_error(refuse(measured, node))

    return OperationLimitRule
