"""Our extension runner calls every hook as Strawberry's own runner does, in the same order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.extension_runner import HookRunner

Events = list[str]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("resolver failed")


class WithHookRunner(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context, extensions)


def generator_hooks(name: str, events: Events) -> type[SchemaExtension]:
    def around(stage: str) -> Callable[[SchemaExtension], Iterator[None]]:
        """A generator hook that notes entering and leaving `stage`."""

        def hook(self: SchemaExtension) -> Iterator[None]:
            events.append(f"{name} {stage} enter")
            yield
            events.append(f"{name} {stage} exit")

        return hook

    class Generators(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            events.append(f"{name} operation enter")
            try:
                yield
            except Exception as error:
                events.append(f"{name} operation saw {type(error).__name__}")
                raise
            events.append(f"{name} operation exit")

        on_parse = around("parse")
        on_validate = around("validate")

        def on_execute(self) -> Iterator[None]:
            events.append(f"{name} execute enter")
            yield
            result = self.execution_context.result
            errors = getattr(result, "errors", None) or []
            events.append(f"{name} execute exit with {len(errors)} errors")

    return Generators


def async_hooks(name: str, events: Events) -> type[SchemaExtension]:
    class AsyncGenerators(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            events.append(f"{name} async operation enter")
            yield
            events.append(f"{name} async operation exit")

        async def on_execute(self) -> AsyncIterator[None]:
            events.append(f"{name} async execute enter")
            yield
            events.append(f"{name} async execute exit")

        async def on_validate(self) -> None:  # type: ignore[override]  # a plain coroutine
            events.append(f"{name} coroutine validate")

        def on_parse(self) -> None:  # type: ignore[override]  # a plain function
            events.append(f"{name} function parse")

        def get_results(self) -> dict[str, Any]:
            return {name: "result"}

    return AsyncGenerators


def refusing_parse(events: Events) -> type[SchemaExtension]:
    class RefuseBeforeParsing(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            events.append("refuse parse enter")
            raise GraphQLError("refused before parsing", extensions={"code": "REFUSED"})
            yield  # pragma: no cover - a generator hook that never gets this far

    return RefuseBeforeParsing


def suppressing_execute(events: Events) -> type[SchemaExtension]:
    class SwallowExecutionErrors(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            events.append("swallow execute enter")
            try:
                yield
            except RuntimeError as error:
                events.append(f"swallowed {error}")

    return SwallowExecutionErrors


def raising_execute(events: Events) -> type[SchemaExtension]:
    class RaiseDuringExecution(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            events.append("raise execute enter")
            yield
            raise RuntimeError("after execution")

    return RaiseDuringExecution


SETS = {
    "generators": lambda events: [generator_hooks("a", events), generator_hooks("b", events)],
    "async and plain hooks": lambda events: [
        async_hooks("a", events),
        generator_hooks("b", events),
        async_hooks("c", events),
    ],
    "a refusal before parsing": lambda events: [
        generator_hooks("outer", events),
        refusing_parse(events),
        generator_hooks("inner", events),
    ],
    "a hook that raises, inside one that swallows": lambda events: [
        generator_hooks("outer", events),
        suppressing_execute(events),
        raising_execute(events),
    ],
}


async def _run(schema_class: type[strawberry.Schema], extension_set: str, query: str) -> Any:
    events: Events = []
    schema = schema_class(query=Query, extensions=SETS[extension_set](events))
    result = await schema.execute(query)
    errors = [(error.message, error.path, error.extensions) for error in result.errors or ()]
    return events, result.data, errors, result.extensions


@pytest.mark.parametrize("query", ["{ hello }", "{ broken }", "{ nosuchfield }"])
@pytest.mark.parametrize("extension_set", list(SETS))
async def test_hooks_run_as_under_strawberrys_runner(extension_set: str, query: str) -> None:
    # when the same extensions run one operation under each runner
    ours = await _run(WithHookRunner, extension_set, query)
    strawberrys = await _run(strawberry.Schema, extension_set, query)
    # then every hook ran at the same moment, saw the same, and the answers are equal
    assert ours == strawberrys


def test_sync_execution_runs_the_hooks_too() -> None:
    events: Events = []
    schema = WithHookRunner(query=Query, extensions=[generator_hooks("a", events)])
    result = schema.execute_sync("{ hello }")
    assert result.data == {"hello": "world"}
    assert events == [
        "a operation enter",
        "a parse enter",
        "a parse exit",
        "a validate enter",
        "a validate exit",
        "a execute enter",
        "a execute exit with 0 errors",
        "a operation exit",
    ]
