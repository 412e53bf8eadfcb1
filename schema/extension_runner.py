"""Strawberry's schema-extension hooks, run without rebuilding them for each phase of a request.

For each phase (operation, parse, validation, execution) Strawberry's runner
looks every extension's hook up again through `inspect`, wraps each in a fresh
`contextlib.contextmanager` (with `functools.update_wrapper`) and enters them
on an `ExitStack`: with our nine extensions that is about 0.1 ms of CPU per
request, five times what graphql-core spends executing `{ __typename }`. Here
the hooks a class defines are found once per class, and a phase drives its
hooks' generators directly: entered in order, left in reverse, with the
semantics of `contextlib.contextmanager` on an `ExitStack` (an exception from
the phase is thrown into each hook, a hook may suppress or replace it).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from enum import Enum
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

__all__ = ["HookRunner"]


class _Kind(Enum):
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async generator"
    FUNCTION = "function"
    COROUTINE_FUNCTION = "coroutine function"


Hook = tuple[Callable[[SchemaExtension], Any], _Kind]


# Per extension class and phase; classes are few and live as long as the process.
_HOOKS: dict[tuple[type[SchemaExtension], str], Hook | None] = {}
_RESULTS: dict[type[SchemaExtension], bool] = {}


def _hook(extension_class: type[SchemaExtension], name: str) -> Hook | None:
    """The class's own hook for phase `name`, and how to drive it; None where it has none."""
    key = (extension_class, name)
    if key not in _HOOKS:
        _HOOKS[key] = _find_hook(extension_class, name)
    return _HOOKS[key]


def _find_hook(extension_class: type[SchemaExtension], name: str) -> Hook | None:
    function = getattr(extension_class, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return function, _Kind.GENERATOR
    if inspect.isasyncgenfunction(function):
        return function, _Kind.ASYNC_GENERATOR
    if inspect.iscoroutinefunction(function):
        return function, _Kind.COROUTINE_FUNCTION
    if callable(function):
        return function, _Kind.FUNCTION
    raise ValueError(f"Hook {name} on {extension_class} must be callable, received {function!r}")


def _has_results(extension_class: type[SchemaExtension]) -> bool:
    if extension_class not in _RESULTS:
        _RESULTS[extension_class] = extension_class.get_results is not SchemaExtension.get_results
    return _RESULTS[extension_class]


_NOT_STOPPED = "schema extension hook {} did not stop after its one yield"


def _leave(generator: Generator[Any, None, None], error: BaseException | None) -> bool:
    """Resume a sync hook after the phase; True if it suppressed `error` (contextlib's rules)."""
    if error is None:
        try:
            next(generator)
        except StopIteration:
            return False
        raise RuntimeError(_NOT_STOPPED.format(generator))
    try:
        generator.throw(error)
    except StopIteration as stopped:
        return stopped is not error
    except RuntimeError as raised:
        # PEP 479 turns a StopIteration thrown into a generator into RuntimeError.
        if raised is error or (isinstance(error, StopIteration) and raised.__cause__ is error):
            return False
        raise
    except BaseException as raised:
        if raised is error:
            return False
        raise
    raise RuntimeError(_NOT_STOPPED.format(generator))


async def _aleave(generator: AsyncGenerator[Any, None], error: BaseException | None) -> bool:
    """As `_leave`, for an async generator hook."""
    if error is None:
        try:
            await generator.__anext__()
        except StopAsyncIteration:
            return False
        raise RuntimeError(_NOT_STOPPED.format(generator))
    try:
        await generator.athrow(error)
    except StopAsyncIteration as stopped:
        return stopped is not error
    except BaseException as raised:
        if raised is error:
            return False
        raise
    raise RuntimeError(_NOT_STOPPED.format(generator))


class _Phase:
    """One phase's hooks as one (async) context manager."""

    __slots__ = ("_entered", "_hooks", "_name")

    def __init__(self, extensions: list[SchemaExtension], plan: _Plan, name: str) -> None:
        self._name = name
        self._hooks = [(extensions[index], hook) for index, hook in plan]
        self._entered: list[Generator[Any, None, None] | AsyncGenerator[Any, None]] = []

    def _enter_sync(self, extension: SchemaExtension, function: Any, kind: _Kind) -> bool:
        """Enter a hook that needs no event loop; False, doing nothing, for an async one."""
        if kind is _Kind.GENERATOR:
            generator = function(extension)
            next(generator)
            self._entered.append(generator)
        elif kind is _Kind.FUNCTION:
            function(extension)
        else:
            return False
        return True

    def __enter__(self) -> None:
        try:
            for extension, (function, kind) in self._hooks:
                if not self._enter_sync(extension, function, kind):
                    raise RuntimeError(
                        f"SchemaExtension hook {extension}.{self._name} failed to complete"
                        " synchronously."
                    )
        except BaseException as error:
            # A hook refused before the phase began: those already entered are left
            # with its exception, as nested `with` blocks would be.
            if not self.__exit__(type(error), error, error.__traceback__):
                raise

    async def __aenter__(self) -> None:
        try:
            for extension, (function, kind) in self._hooks:
                if self._enter_sync(extension, function, kind):
                    continue
                if kind is _Kind.ASYNC_GENERATOR:
                    async_generator = function(extension)
                    await async_generator.__anext__()
                    self._entered.append(async_generator)
                else:
                    await function(extension)
        except BaseException as error:
            if not await self.__aexit__(type(error), error, error.__traceback__):
                raise

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        # Only sync hooks were entered, so the unwinding never awaits anything.
        return _finish(self._unwind(error))

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return await self._unwind(error)

    async def _unwind(self, error: BaseException | None) -> bool:
        """Leave the entered hooks, innermost first; True if `error` was suppressed."""
        pending = error
        while self._entered:
            generator = self._entered.pop()
            try:
                suppressed = (
                    await _aleave(generator, pending)
                    if isinstance(generator, AsyncGenerator)
                    else _leave(generator, pending)
                )
                if suppressed:
                    pending = None
            except BaseException as raised:
                _chain(raised, pending)
                pending = raised
        return self._outcome(error, pending)

    @staticmethod
    def _outcome(error: BaseException | None, pending: BaseException | None) -> bool:
        if pending is None:
            return error is not None  # suppressed by a hook
        if pending is error:
            return False  # the phase's own exception goes on
        raise pending  # a hook raised another one (its __context__ is the original)


def _finish(coroutine: Coroutine[Any, Any, bool]) -> bool:
    """Run to its end a coroutine that never suspends, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return bool(finished.value)
    coroutine.close()
    raise RuntimeError("a sync phase awaited an async hook")


def _chain(raised: BaseException, pending: BaseException | None) -> None:
    # As ExitStack does: the exception a hook raised while handling another says so.
    if pending is not None and raised is not pending and raised.__context__ is None:
        raised.__context__ = pending


_Plan = list[tuple[int, Hook]]
"""A phase's hooks: the position of each extension that has one, and the hook."""
_PHASES = ("on_operation", "on_validate", "on_parse", "on_execute")
# By the classes of a schema's extensions, in order: the same few on every request.
_PLANS: dict[tuple[type[SchemaExtension], ...], dict[str, _Plan]] = {}
_PLANS_KEPT = 64


def _plans(extensions: list[SchemaExtension]) -> dict[str, _Plan]:
    classes = tuple(type(extension) for extension in extensions)
    plans = _PLANS.get(classes)
    if plans is None:
        plans = {
            phase: [
                (index, hook)
                for index, extension_class in enumerate(classes)
                if (hook := _hook(extension_class, phase)) is not None
            ]
            for phase in _PHASES
        }
        if len(_PLANS) >= _PLANS_KEPT:
            _PLANS.clear()
        _PLANS[classes] = plans
    return plans


class HookRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with each phase's hooks found once per set of extension classes."""

    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None
    ) -> None:
        super().__init__(execution_context, extensions)
        self._plans = _plans(self.extensions)

    def operation(self) -> Any:
        return _Phase(self.extensions, self._plans["on_operation"], "on_operation")

    def validation(self) -> Any:
        return _Phase(self.extensions, self._plans["on_validate"], "on_validate")

    def parsing(self) -> Any:
        return _Phase(self.extensions, self._plans["on_parse"], "on_parse")

    def executing(self) -> Any:
        return _Phase(self.extensions, self._plans["on_execute"], "on_execute")

    def get_extensions_results_sync(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if _has_results(type(extension)):
                if inspect.iscoroutinefunction(extension.get_results):
                    raise RuntimeError("Cannot use async extension hook during sync execution")
                results = extension.get_results()
                assert isinstance(results, dict)
                data.update(results)
        return data

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if _has_results(type(extension)):
                results = extension.get_results()
                data.update(await results if inspect.isawaitable(results) else results)
        data.update(ctx.extensions_results)
        return data
