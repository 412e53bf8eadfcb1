"""How a field declares its calculated cost, where the field itself is declared.

The calculated cost (DESIGN §11) multiplies a list's items by how many it can
hold. How many is a fact about one field, so that field states it in its
Strawberry metadata, and the generic cost limit only reads it:

    steps: list[OnboardingStep] = strawberry.field(..., metadata=list_size(6))

Metadata rather than a Strawberry field extension (the way Strawberry's own
`QueryComplexityEstimator` declares cost): any field extension makes Strawberry
resolve that field through the extension chain on every call, building `Info`
and converting arguments even for a plain attribute, while metadata costs
nothing once the schema is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import GraphQLField
from strawberry.schema.schema_converter import GraphQLCoreConverter

_COST = "onboarding.cost"
"""The metadata key; namespaced so it cannot meet another library's."""


@dataclass(frozen=True, slots=True)
class ListSize:
    """A list that never holds more than `items` items."""

    items: int

    def __post_init__(self) -> None:
        # A cost of zero items would hide what is selected inside the list, so a
        # part of an operation could pass the limit while the whole did not.
        if self.items < 1:
            raise ValueError("a list's size for the cost must be at least 1")


@dataclass(frozen=True, slots=True)
class PageSize:
    """A page of as many items as `argument` asks for (its default when not given).

    The argument is a number (`first`) or a list, one item per element (`ids`).

    Never more than `maximum`: a larger value is the field's own error, so no
    more can be returned. On a connection, the lists directly inside it (its
    `edges`) hold that many.
    """

    argument: str
    maximum: int

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise ValueError("a page's maximum size must be at least 1")


FieldCost = ListSize | PageSize


def list_size(items: int) -> Mapping[str, FieldCost]:
    """Field metadata: this list holds at most `items` items."""
    return {_COST: ListSize(items)}


def page_size(argument: str, *, maximum: int) -> Mapping[str, FieldCost]:
    """Field metadata: this field returns a page of `argument` items, at most `maximum`."""
    return {_COST: PageSize(argument, maximum)}


def declared_cost(field: GraphQLField) -> FieldCost | None:
    """What the Strawberry field behind `field` declares about its cost, if anything."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    metadata = getattr(definition, "metadata", None) or {}
    declared = metadata.get(_COST)
    return declared if isinstance(declared, ListSize | PageSize) else None
