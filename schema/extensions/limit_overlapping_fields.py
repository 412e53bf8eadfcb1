"""Bound the work of checking that same-named fields merge (`TOO_MANY_OVERLAPPING_FIELDS`).

graphql-core's OverlappingFieldsCanBeMergedRule (a standard validation rule)
compares the fields that share a response name pair by pair, so its work grows
with the square of their number: `{ viewer { id } }` 490 times, 1,962 tokens
within every other limit, costs it about 2.8 million Python calls, seconds of
the event loop. graphql-core meters this work in a budget (two units for each
pair of fields compared) and aborts the validation once the budget is spent.
The budget is `MAX_COMPLEXITY_BUDGET`, a module attribute graphql-core documents
as the setting ("raised or lowered by assigning to this module attribute, which
is read when the validation of the rule starts"); its default, 500,000, is far
more than documents use (introspection and our client operations: 0; 40
fragments on one type sharing four fields: about 18,000).

The rule here is graphql-core's, with the budget assigned as the rule starts,
so each schema validates with its own, and the abort answered with a code.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import OverlappingFieldsCanBeMergedRule, SelectionSetNode, ValidationContext
from graphql.validation import ASTValidationRule
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

TOO_MANY_OVERLAPPING_FIELDS = "TOO_MANY_OVERLAPPING_FIELDS"
# What graphql-core's rule raises when its budget is spent. (Too many errors
# abort with a longer message, which is passed on as it is.)
BUDGET_SPENT = "Validation aborted."


@cache
def overlapping_fields_rule(budget: int) -> type[OverlappingFieldsCanBeMergedRule]:
    """graphql-core's rule under `budget`; one class per budget, so validation stays cacheable."""

    class OverlappingFieldsWithinBudget(OverlappingFieldsCanBeMergedRule):
        def __init__(self, context: ValidationContext) -> None:
            overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = budget
            super().__init__(context)  # which reads the budget

        def enter_selection_set(self, selection_set: SelectionSetNode, *args: Any) -> None:
            # The one visit in which the rule compares fields, so spends its budget.
            try:
                super().enter_selection_set(selection_set, *args)
            except ValidationAbortedError as aborted:
                if aborted.message != BUDGET_SPENT:
                    raise
                raise ValidationAbortedError(
                    "The document repeats fields of the same name too often to be checked:"
                    f" comparing them went past the budget of {budget}."
                    " Select each field once per selection set.",
                    selection_set,
                    extensions={"code": TOO_MANY_OVERLAPPING_FIELDS, "budget": budget},
                ) from None

    return OverlappingFieldsWithinBudget


class LimitOverlappingFields(SchemaExtension):
    """Validates with graphql-core's field-merging rule under `budget` instead of its default."""

    def __init__(self, budget: int) -> None:
        self.rule = overlapping_fields_rule(budget)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = _with_rule(context.validation_rules, self.rule)
        yield


Rules = tuple[type[ASTValidationRule], ...]
# The same few rule sets come by on every request: each is swapped once.
_SWAPPED: dict[tuple[Rules, type[OverlappingFieldsCanBeMergedRule]], Rules] = {}
_SWAPPED_KEPT = 32


def _with_rule(rules: Rules, rule: type[OverlappingFieldsCanBeMergedRule]) -> Rules:
    swapped = _SWAPPED.get((rules, rule))
    if swapped is None:
        swapped = tuple(
            rule if each is OverlappingFieldsCanBeMergedRule else each for each in rules
        )
        if len(_SWAPPED) >= _SWAPPED_KEPT:
            _SWAPPED.clear()
        _SWAPPED[(rules, rule)] = swapped
    return swapped
