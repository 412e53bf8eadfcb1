"""Refuse operations too deep, with too many aliases or too many selections, before they run.

One validation rule checks the three figures that depend on the document
alone, from one walk (`selection_walk`):

- depth, `QUERY_TOO_DEEP`: fields on the longest path, introspection included;
- aliases, `TOO_MANY_ALIASES`: aliases let one request ask for the same
  expensive field many times over; counted each time a fragment is spread;
- selections, `MAX_RECURSIVE_SELECTIONS_EXCEEDED`: fields, inline fragments and
  spreads with every fragment expanded where it is spread, as Apollo Server's
  `maxRecursiveSelections` counts them. It refuses documents that are small but
  expand to a huge operation, such as fragments that each spread the previous
  one twice, which no other limit sees when the fields are cheap (`__typename`).

Being a validation rule, the result is cached with the document's validation.
The rule measures every operation as soon as validation enters the document,
and a refusal ends the validation there: the other rules (graphql-core's
OverlappingFieldsCanBeMerged can spend its whole budget on a 2,000-token document)
have nothing to add that the client needs, so they never start.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationRule,
    VisitorAction,
)
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import AddValidationRules

from schema.extensions.selection_walk import (
    Maxima,
    SelectionWalker,
    Walk,
    fragments_by_name,
)

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
MAX_RECURSIVE_SELECTIONS_EXCEEDED = "MAX_RECURSIVE_SELECTIONS_EXCEEDED"
# graphql-core's own MaxIntrospectionDepthRule (fields { type { fields ... } } past
# three levels) reports this without a code; it is a depth limit too.
INTROSPECTION_TOO_DEEP = "Maximum introspection depth exceeded"
# graphql-core gives up on a document whose validation would go past its own
# work budgets or Python's recursion limit (a chain of ~200 fragments, say),
# with this message and no code; it is a document too complex to check.
VALIDATION_ABORTED = "Validation aborted."
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def _amount(walk: Walk, figure: int) -> str:
    return str(figure) if walk.complete else f"at least {figure}"


def _refusals(
    walk: Walk, maxima: Maxima, operation: OperationDefinitionNode
) -> Iterator[GraphQLError]:
    measure = walk.measure
    if "depth" in walk.passed:
        yield GraphQLError(
            f"The operation is {_amount(walk, measure.depth)} fields deep;"
            f" the maximum is {maxima.depth}.",
            operation,
            extensions={"code": QUERY_TOO_DEEP, "depth": measure.depth, "maxDepth": maxima.depth},
        )
    if "aliases" in walk.passed:
        yield GraphQLError(
            f"The operation uses {_amount(walk, measure.aliases)} aliases;"
            f" the maximum is {maxima.aliases}.",
            operation,
            extensions={
                "code": TOO_MANY_ALIASES,
                "aliases": measure.aliases,
                "maxAliases": maxima.aliases,
            },
        )
    if "selections" in walk.passed:
        yield GraphQLError(
            f"The operation makes {_amount(walk, measure.selections)} selections once its"
            f" fragments are expanded; the maximum is {maxima.selections}."
            " Spread each fragment fewer times.",
            operation,
            extensions={
                "code": MAX_RECURSIVE_SELECTIONS_EXCEEDED,
                "selections": measure.selections,
                "maxSelections": maxima.selections,
            },
        )


@cache
def selection_limits_rule(maxima: Maxima) -> type[ValidationRule]:
    """The validation rule for `maxima`; one class per set of limits, so validation stays cacheable.

    (CacheValidation keys on the rule classes.)
    """

    class SelectionLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> VisitorAction:
            # On entering the document, before any other rule has visited a
            # definition. One walker for all operations: they share fragments.
            walker = SelectionWalker(fragments_by_name(node), maxima)
            refusals = [
                refusal
                for operation in node.definitions
                if isinstance(operation, OperationDefinitionNode)
                for refusal in _refusals(walker.walk(operation), maxima, operation)
            ]
            if not refusals:
                return SKIP  # the walks have seen all this rule needs of the document
            *others, last = refusals
            for refusal in others:
                self.report_error(refusal)
            # graphql-core ends the validation on this error and answers it after
            # the others.
            raise ValidationAbortedError(last.message, last.nodes, extensions=last.extensions)

    return SelectionLimitsRule


class LimitSelections(AddValidationRules):
    """Adds the depth, alias and selection rule to validation, so no bomb of theirs executes."""

    def __init__(self, max_depth: int, max_aliases: int, max_selections: int) -> None:
        maxima = Maxima(depth=max_depth, aliases=max_aliases, selections=max_selections)
        super().__init__([selection_limits_rule(maxima)])

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if error.message == INTROSPECTION_TOO_DEEP and not error.extensions:
                error.extensions = {"code": QUERY_TOO_DEEP}
            elif error.message == VALIDATION_ABORTED and not error.extensions:
                error.message = "The document is too complex to validate; simplify it."
                error.extensions = {"code": QUERY_TOO_COMPLEX}
