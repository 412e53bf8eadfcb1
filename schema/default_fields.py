"""Execute a leaf field that a default resolver reads without the per-field work it does not need.

For every field, graphql-core builds a `GraphQLResolveInfo`, asks the
middleware manager for the resolver, calls it (Strawberry's wrapper, which
calls the field's `get_result`, which calls `getattr`), checks twice whether
the result is awaitable and completes it through the generic `complete_value`.
A default resolver needs none of that: it reads one attribute. The step list
of `onboardingProgress` is 42 such fields of 45, about half the CPU of the
whole request.

`DefaultFieldsExecutor` executes those fields (a scalar or enum, no arguments,
Strawberry's default resolver, no middleware) by reading the attribute and
completing it as a leaf, exactly as `complete_value` would: the same
coercion, the same errors (null for a non-null field, a value that does not
serialise), reported at the same path. Every other field goes the usual way.
It is still GraphQL: the document decides what is executed and returned.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from graphql.pyutils.undefined import UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

__all__ = ["DefaultFieldsExecutor"]

_DEFINITION = "strawberry-definition"
"""Where Strawberry keeps a GraphQL field's own definition (`GraphQLCoreConverter`)."""


@dataclass(frozen=True, slots=True)
class _AttributeLeaf:
    """A leaf field whose value is one attribute of its parent object."""

    attribute: str
    leaf_type: GraphQLLeafType
    non_null: bool
    field_type: GraphQLOutputType
    null_message: str


def _attribute_leaf(
    parent: GraphQLObjectType, name: str, field: GraphQLField
) -> _AttributeLeaf | None:
    definition = (field.extensions or {}).get(_DEFINITION)
    resolver = field.resolve
    if (
        not isinstance(definition, StrawberryField)
        or resolver is None
        or not getattr(resolver, "_is_default", False)  # Strawberry's resolver for a basic field
        or not definition.is_basic_field
        or definition.default_resolver is not getattr
        or field.args
    ):
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not is_leaf_type(named):
        return None
    message = f"Cannot return null for non-nullable field {parent.name}.{name}."
    return _AttributeLeaf(definition.python_name, named, non_null, field.type, message)


# Per parent type, decided once: the types live as long as their schema.
_LEAVES: weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, _AttributeLeaf | None]] = (
    weakref.WeakKeyDictionary()
)


def _leaves_of(parent: GraphQLObjectType) -> dict[str, _AttributeLeaf | None]:
    leaves = _LEAVES.get(parent)
    if leaves is None:
        leaves = {
            name: _attribute_leaf(parent, name, field) for name, field in parent.fields.items()
        }
        _LEAVES[parent] = leaves
    return leaves


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    reference = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = reference()
        if bound is None:
            raise RuntimeError("the execution these helpers belong to is over")
        return bound(*args, **kwargs)

    return call


class DefaultFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, reading default-resolved leaf fields directly (module docstring).

    It also leaves no reference cycle behind: graphql-core gives resolvers two
    of the executor's own bound methods (`info.async_helpers`), which made every
    executor, and the context and everything else it holds, garbage that only
    the cyclic collector could free. Here they hold the executor weakly, so a
    request's objects go when the request does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work)
        )
        manager = self.middleware_manager
        self._wraps_resolvers = manager is not None and bool(manager.middlewares)
        # Per selection of fields (graphql-core hands the same grouped field set to
        # every object of a list): its leaves, or None when not all of it is leaves.
        self._all_leaves: dict[int, tuple[GroupedFieldSet, list[tuple[str, _AttributeLeaf]] | None]]
        self._all_leaves = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """An object whose selected fields are all such leaves is read in one pass.

        No Path, no per-field call: those serve error reports, and any error
        (or anything unexpected) sends the whole object the usual way, which
        reports it where graphql-core does.
        """
        leaves = self._leaves_of_selection(parent_type, grouped_field_set)
        if leaves is not None:
            completed = self._read_leaves(source_value, leaves)
            if completed is not None:
                return completed
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _leaves_of_selection(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[tuple[str, _AttributeLeaf]] | None:
        known = self._all_leaves.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan: list[tuple[str, _AttributeLeaf]] | None = []
        by_name = _leaves_of(parent_type)
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            leaf = by_name.get(node.name.value)
            if leaf is None or node.arguments or self._wraps_resolvers:
                plan = None
                break
            assert plan is not None
            plan.append((response_name, leaf))
        # The set itself is kept with its plan, so its id is not reused meanwhile.
        self._all_leaves[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _read_leaves(
        self, source: Any, leaves: list[tuple[str, _AttributeLeaf]]
    ) -> dict[str, Any] | None:
        """The object's fields, or None where one needs the usual way (an error, an awaitable)."""
        results: dict[str, Any] = {}
        try:
            for response_name, leaf in leaves:
                value = getattr(source, leaf.attribute)
                if value is None or value is Undefined:
                    if leaf.non_null:
                        return None
                    results[response_name] = None
                    continue
                if isinstance(value, Exception) or self.is_awaitable(value):
                    return None
                coerced = leaf.leaf_type.coerce_output_value(value)
                if coerced is None or coerced is Undefined:
                    return None
                results[response_name] = coerced
        except Exception:
            return None
        return results

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        node = field_details_list[0].node
        leaf = _leaves_of(parent_type).get(node.name.value)
        if leaf is None or node.arguments or self._wraps_resolvers:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        try:
            value = getattr(source, leaf.attribute)
            if self.is_awaitable(value):
                # Not a plain attribute after all: the usual way awaits it.
                return super().execute_field(
                    parent_type, source, field_details_list, path, position_context
                )
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if leaf.non_null:
                    raise TypeError(leaf.null_message)
                return None
            return self.complete_leaf_value(leaf.leaf_type, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, leaf.field_type, field_details_list, path)
            return None
