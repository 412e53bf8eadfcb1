"""One walk over an operation measures it for every query limit: depth, aliases, selections, cost.

Each limit is about the operation as it runs, every fragment expanded where it
is spread, and expanding literally costs as much as the expansion: with
`fragment Fi on Query { ...F(i-1) ...F(i-1) }` a 900-byte document is 2^40
selections. Here a fragment is measured once per document for each context
that can change its measure (see `_Context`) and that measure is reused at
every spread, so the work is linear in the document. The walk also ends as
soon as what it has measured passes a limit, checked after each fragment and
each root selection (where expanded figures add up); the figures are then a
lower bound.

Depth counts fields on the longest path from the root, introspection fields
included: `{ viewer { id } }` is 2. A chain of `ofType` counts as one level:
`__Type.ofType` only unwraps List/NonNull wrappers, and the standard
introspection query nests it nine deep, which alone would be 15 levels.

Cost is computed as Shopify's calculated query cost is, before any resolver
runs: a field returning an object costs 1, scalars and enums 0, and a list
multiplies the cost of its items by how many it can hold, as the field declares
(`schema.field_cost`): the page it was asked for, or the list's known size,
else `DEFAULT_LIST_SIZE`. Arguments and variables are read as execution will
read them, so a variable's default prices like a literal. Introspection costs
nothing: its answer is bounded by the schema, not the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from graphql import (
    DocumentNode,
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
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_argument_values,
    get_named_type,
    is_composite_type,
)
from graphql.execution.values import VariableValues

from schema.field_cost import ListSize, PageSize, declared_cost

Figure = Literal["depth", "aliases", "selections", "cost"]
FIGURES: tuple[Figure, ...] = ("depth", "aliases", "selections", "cost")

DEFAULT_LIST_SIZE = 10
"""Items assumed in a list that declares neither a page nor a size."""

OF_TYPE = "ofType"


@dataclass(frozen=True, slots=True)
class Measure:
    """What an operation, or a part of it, amounts to once its fragments are expanded."""

    depth: int = 0
    """Fields on the longest path."""
    aliases: int = 0
    """Aliased fields, each time it is reached through a spread."""
    selections: int = 0
    """Fields, inline fragments and fragment spreads, each time it is reached through a spread."""
    cost: int = 0
    """The calculated cost; 0 unless the walk prices fields."""

    def __add__(self, other: Measure) -> Measure:
        """Two parts of one selection set: the deeper of the two paths, the sum of the rest."""
        return Measure(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.selections + other.selections,
            self.cost + other.cost,
        )


NOTHING = Measure()
ONE_SELECTION = Measure(selections=1)


@dataclass(frozen=True, slots=True)
class Maxima:
    """The most of each figure an operation may have; None leaves that figure unchecked.

    Each limit sets its own figures only: validation checks depth, aliases and
    selections (`LimitSelections`), and the cost is checked once the variables are
    known (`LimitQueryCost`).
    """

    depth: int | None = None
    aliases: int | None = None
    selections: int | None = None
    cost: int | None = None

    def passed_by(self, measure: Measure) -> tuple[Figure, ...]:
        passed: list[Figure] = []
        for figure in FIGURES:
            maximum = getattr(self, figure)
            if maximum is not None and getattr(measure, figure) > maximum:
                passed.append(figure)
        return tuple(passed)


@dataclass(frozen=True, slots=True)
class Pricing:
    """What the cost needs beyond the document: the schema, and the variables as coerced."""

    schema: GraphQLSchema
    variables: VariableValues


@dataclass(frozen=True, slots=True)
class Walk:
    """What one operation measured, and the work it took."""

    measure: Measure
    passed: tuple[Figure, ...]
    """The figures over their maximum; empty when the operation is within every limit."""
    complete: bool
    """False when the walk ended early: `measure` is then a lower bound."""
    fragments_measured: int
    """Fragments measured so far in this document (each at most once per context)."""
    selections_visited: int
    """Selections of the document looked at so far: the walk's work."""
    read_variables: bool = False
    """Whether the cost used a variable's value (else it is the document's alone)."""


@dataclass(frozen=True, slots=True)
class _Context:
    """What a selection's measure depends on besides the selection itself."""

    parent: GraphQLNamedType | None
    """The type whose fields are selected; None where nothing is priced."""
    under_of_type: bool
    """Whether the enclosing field is `ofType` (a chain of them counts once)."""
    page_size: int | None
    """The page an enclosing connection was asked for: the size of the lists directly inside."""


class _LimitPassed(Exception):  # noqa: N818 - a signal that ends the walk, not an error
    def __init__(self, measure: Measure, passed: tuple[Figure, ...], *, complete: bool) -> None:
        super().__init__()
        self.measure = measure
        self.passed = passed
        self.complete = complete


def fragments_by_name(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


class SelectionWalker:
    """Measures the operations of one document, sharing the measures of its fragments.

    Without `pricing`, cost is not computed (it stays 0): depth, aliases and
    selections depend on the document alone, so they can be checked, and cached,
    with validation.
    """

    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        maxima: Maxima,
        pricing: Pricing | None = None,
    ) -> None:
        self.fragments = fragments
        self.maxima = maxima
        self.pricing = pricing
        self._measured: dict[tuple[str, bool, int | None, bool], Measure] = {}
        self._in_progress: set[str] = set()
        self.fragments_measured = 0
        self.selections_visited = 0
        self.read_variables = False

    def walk(self, operation: OperationDefinitionNode) -> Walk:
        root = (
            self.pricing.schema.get_root_type(operation.operation)
            if self.pricing is not None
            else None
        )
        try:
            measure = self._selection_set(
                operation.selection_set, _Context(root, False, None), root_selections=True
            )
        except _LimitPassed as stopped:
            return self._result(stopped.measure, stopped.passed, complete=stopped.complete)
        return self._result(measure, (), complete=True)

    def _result(self, measure: Measure, passed: tuple[Figure, ...], *, complete: bool) -> Walk:
        return Walk(
            measure,
            passed,
            complete,
            self.fragments_measured,
            self.selections_visited,
            self.read_variables,
        )

    def _selection_set(
        self,
        selection_set: SelectionSetNode | None,
        context: _Context,
        *,
        root_selections: bool = False,
    ) -> Measure:
        if selection_set is None:
            return NOTHING
        total = NOTHING
        selections = selection_set.selections
        for position, selection in enumerate(selections, 1):
            self.selections_visited += 1
            if isinstance(selection, FieldNode):
                part = self._field(selection, context)
            elif isinstance(selection, InlineFragmentNode):
                on = self._type_condition(selection.type_condition, context)
                inner = self._selection_set(
                    selection.selection_set,
                    _Context(on, context.under_of_type, context.page_size),
                )
                part = ONE_SELECTION + inner
            elif isinstance(selection, FragmentSpreadNode):
                part = ONE_SELECTION + self._fragment(selection.name.value, context)
            else:  # pragma: no cover - the three kinds of selection above are all there are
                continue
            total = total + part
            if root_selections:
                passed = self.maxima.passed_by(total)
                if passed:
                    raise _LimitPassed(total, passed, complete=position == len(selections))
        return total

    def _fragment(self, name: str, context: _Context) -> Measure:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._in_progress:
            return NOTHING  # unknown fragments and cycles are reported by the standard rules
        on = self._type_condition(fragment.type_condition, context)
        key = (name, context.under_of_type, context.page_size, on is not None)
        measure = self._measured.get(key)
        if measure is None:
            self._in_progress.add(name)
            try:
                measure = self._selection_set(
                    fragment.selection_set,
                    _Context(on, context.under_of_type, context.page_size),
                )
            finally:
                self._in_progress.discard(name)
            self._measured[key] = measure
            self.fragments_measured += 1
        # Every spread of the fragment contains all of it: if it alone passes a
        # limit, so does the operation, and nothing more needs walking.
        passed = self.maxima.passed_by(measure)
        if passed:
            raise _LimitPassed(measure, passed, complete=False)
        return measure

    def _field(self, node: FieldNode, context: _Context) -> Measure:
        name = node.name.value
        own_depth = 0 if name == OF_TYPE and context.under_of_type else 1
        aliased = int(node.alias is not None)
        field = _priced_field(context.parent, name)
        if field is None:
            inner = self._selection_set(node.selection_set, _Context(None, name == OF_TYPE, None))
            return Measure(own_depth + inner.depth, aliased + inner.aliases, 1 + inner.selections)
        named = get_named_type(field.type)
        declared = declared_cost(field)
        page = self._page_size(field, node, declared) if isinstance(declared, PageSize) else None
        if _is_list(field.type):
            inner = self._selection_set(node.selection_set, _Context(named, name == OF_TYPE, None))
            known = declared.items if isinstance(declared, ListSize) else None
            items = page or context.page_size or known or DEFAULT_LIST_SIZE
            cost = items * (1 + inner.cost)
        else:
            # A connection: its own lists (edges) hold as many as its page asked for.
            inner = self._selection_set(node.selection_set, _Context(named, name == OF_TYPE, page))
            cost = 1 + inner.cost
        return Measure(own_depth + inner.depth, aliased + inner.aliases, 1 + inner.selections, cost)

    def _page_size(self, field: GraphQLField, node: FieldNode, declared: PageSize) -> int | None:
        assert self.pricing is not None  # only priced fields get here
        if any(_uses_variables(argument.value) for argument in node.arguments or ()):
            self.read_variables = True
        try:
            arguments = get_argument_values(field, node, self.pricing.variables)
        except GraphQLError:
            return None  # an invalid argument is the field's own error, reported when it runs
        asked = arguments.get(declared.argument)
        if asked is None:  # null asks for the default
            argument = field.args.get(declared.argument)
            asked = argument.default_value if argument is not None else None
        if isinstance(asked, list):  # e.g. `nodes(ids:)`: one item per id asked for
            asked = len(asked)
        if not isinstance(asked, int) or isinstance(asked, bool):
            return None
        return min(max(asked, 0), declared.maximum)

    def _type_condition(
        self, condition: NamedTypeNode | None, context: _Context
    ) -> GraphQLNamedType | None:
        if context.parent is None or self.pricing is None:
            return None
        if condition is None:
            return context.parent
        return self.pricing.schema.get_type(condition.name.value)


def _priced_field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """The field's definition when it has a cost: an object field outside introspection."""
    if parent is None or name.startswith("__"):
        return None
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None  # a union's only field is __typename
    field: GraphQLField | None = parent.fields.get(name)
    if field is None or not is_composite_type(get_named_type(field.type)):
        return None
    return field


def _is_list(field_type: GraphQLOutputType) -> bool:
    unwrapped = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return isinstance(unwrapped, GraphQLList)


def _uses_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_uses_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_uses_variables(field.value) for field in value.fields)
    return False
