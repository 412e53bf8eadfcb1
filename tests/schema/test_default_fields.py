"""Leaf fields read straight from their attribute answer what graphql-core's usual path answers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.build import create_schema
from schema.default_fields import DefaultFieldsExecutor
from schema.scalars import SCALAR_MAP


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Item:
    number: int
    name: str | None
    colour: Colour
    when: datetime | None
    data: JSON | None
    tags: list[str]

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return (self.name or "").upper() * times


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Pet(Named):
    legs: int
    colour: Colour


class Stray:
    """Not a Pet, though it has every field a Pet has."""

    name = "stray"
    legs = 3
    colour = Colour.RED


class Shade(enum.Enum):
    RED = "RED"  # the same name and value as Colour.RED, but another enum


class Broken:
    """An object the resolvers read that breaks in every way a leaf can."""

    number = None  # null for a non-null field
    name = "fine"
    colour = "GREEN"  # not a value of the enum
    data = None
    tags = ("a", "b")

    @property
    def when(self) -> datetime:
        raise RuntimeError("the attribute itself fails")


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(
                number=1,
                name=None,
                colour=Colour.RED,
                when=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                data={"nested": [1, {"x": None}]},
                tags=["t"],
            ),
            Item(number=2, name="two", colour=Colour.BLUE, when=None, data=None, tags=[]),
        ]

    @strawberry.field
    def broken(self) -> list[Item | None]:
        return [Broken(), Broken()]  # type: ignore[list-item]

    @strawberry.field
    def pets(self) -> list[Pet]:
        return [
            Pet(name="rex", legs=4, colour=Colour.BLUE),
            Pet(name="tom", legs=4, colour=Colour.RED),
        ]

    @strawberry.field
    def strays(self) -> list[Pet]:
        return [Pet(name="rex", legs=4, colour=Colour.BLUE), Stray()]  # type: ignore[list-item]

    @strawberry.field
    def odd(self) -> list[Item | None]:
        """Values the leaf types must still check: out of Int's range, a bool, another enum."""
        return [
            Item(number=1, name="a", colour=Colour.RED, when=None, data=None, tags=[]),
            None,
            Item(number=True, name="b", colour=Colour.BLUE, when=None, data=None, tags=[]),
            Item(number=2**31, name="c", colour=Colour.RED, when=None, data=None, tags=[]),
            Item(number=-(2**31), name="d", colour=Shade.RED, when=None, data=None, tags=[]),  # type: ignore[arg-type]
        ]


DOCUMENTS = [
    "{ items { number name colour when data tags shout(times: 2) __typename } }",
    "{ items { a: number b: number ... on Item { colour } } }",
    "{ broken { number } }",
    "{ broken { name colour } }",
    "{ broken { name when } }",
    "{ broken { tags data } }",
    "{ pets { name legs colour } }",
    "{ pets { ... on Named { name } legs } }",
    "{ strays { name legs } }",
    "{ odd { number } }",
    "{ odd { name colour } }",
    "{ items @include(if: true) { number } pets @skip(if: false) { legs } }",
    "{ items { number shout } }",
]


def _schema(executor: type[StrawberryGraphQLCoreExecutionContext]) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        execution_context_class=executor,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


def _answer(schema: strawberry.Schema, document: str) -> Any:
    result = schema.execute_sync(document)
    return result.data, [error.formatted for error in result.errors or ()]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_answer_is_the_same_as_through_graphql_cores_path(document: str) -> None:
    ours = _answer(_schema(DefaultFieldsExecutor), document)
    usual = _answer(_schema(StrawberryGraphQLCoreExecutionContext), document)
    assert ours == usual


def test_errors_keep_their_paths_and_messages() -> None:
    data, errors = _answer(_schema(DefaultFieldsExecutor), "{ broken { name when number } }")
    assert data == {"broken": [None, None]}
    assert {tuple(error["path"]) for error in errors} == {
        ("broken", 0, "when"),
        ("broken", 0, "number"),
        ("broken", 1, "when"),
        ("broken", 1, "number"),
    }
    assert "Cannot return null for non-nullable field Item.number." in {
        error["message"] for error in errors
    }


def test_the_service_executes_with_it() -> None:
    assert create_schema().execution_context_class is DefaultFieldsExecutor
    hidden = create_schema(introspection=False).execution_context_class
    assert hidden is not None
    assert issubclass(hidden, DefaultFieldsExecutor)


def _calls_on_both_paths(method: str, document: str) -> dict[str, int]:
    """How often each executor calls its `method` executing `document` (both answer alike)."""
    calls = {"ours": 0, "usual": 0}

    def counting(executor: type[StrawberryGraphQLCoreExecutionContext], path: str) -> Any:
        original = getattr(executor, method)

        def counted(self: Any, *args: Any) -> Any:
            calls[path] += 1
            return original(self, *args)

        return type(f"Counting{executor.__name__}", (executor,), {method: counted})

    ours = _answer(_schema(counting(DefaultFieldsExecutor, "ours")), document)
    usual = _answer(_schema(counting(StrawberryGraphQLCoreExecutionContext, "usual")), document)
    assert ours == usual
    return calls


def test_a_default_resolved_leaf_gets_no_resolve_info() -> None:
    # when two items with five leaf fields each are executed, counting the
    # GraphQLResolveInfo objects each executor builds
    document = "{ items { number name colour when data } }"
    built = _calls_on_both_paths("build_resolve_info", document)
    # then only `items` needed one; graphql-core's path builds one per field
    assert built == {"ours": 1, "usual": 11}


def test_a_list_of_leaf_objects_is_completed_in_one_step() -> None:
    # when a list of two objects whose selected fields are all leaves is executed,
    # counting the values each executor completes
    completed = _calls_on_both_paths("complete_value", "{ pets { name legs colour } }")
    # then the list is completed once (twice with its non-null wrapper); graphql-core's
    # path completes each item and each field, non-null wrappers included
    assert completed == {"ours": 2, "usual": 18}
