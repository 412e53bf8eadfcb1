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

A list of objects whose selected fields are all such leaves (the six steps)
is read in one loop instead of completing each item on its own, and the
common values are answered as their type answers them without calling it: a
`str` for a String, an `int` within range for an Int, a member of the enum
for an enum (its name, found once by the type itself).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLString,
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
    unchanged: type | None
    """A Python type whose values the leaf type returns unchanged: `str` for a String."""
    enum_class: type[Enum] | None
    names: dict[Enum, str]
    """For a Strawberry enum, each member of `enum_class` and its serialised name."""


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
"""GraphQL's Int: `serialize_int` refuses a Python int outside these."""

# The built-in scalars that return a value of this exact type as it is: graphql-core's
# `serialize_string`, `serialize_id` and `serialize_boolean` do, and `serialize_int`
# does within the Int range (checked where it is used).
_UNCHANGED: dict[GraphQLScalarType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


def _enum_class(leaf_type: GraphQLLeafType) -> type[Enum] | None:
    """The Python enum whose members a Strawberry enum type serialises."""
    members = getattr(leaf_type, "wrapped_cls", None)
    is_enum = isinstance(members, type) and issubclass(members, Enum)
    return members if is_enum and isinstance(leaf_type, GraphQLEnumType) else None


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
    unchanged = _UNCHANGED.get(named) if isinstance(named, GraphQLScalarType) else None
    enum_class = _enum_class(named)
    # Each name found once, by the type's own serialisation.
    names = {member: named.serialize(member) for member in enum_class or ()}
    return _AttributeLeaf(
        definition.python_name,
        named,
        non_null,
        field.type,
        message,
        unchanged,
        enum_class,
        names,
    )


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

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: AsyncIterable[Any] | Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects whose selected fields are all such leaves is read in one loop.

        graphql-core completes each item on its own (a path, two awaitable checks,
        the type check, the sub-selection looked up again). Here the selection is
        collected once and every item read as `execute_fields` reads one object.
        Anything else (a directive such as `@stream` on the field, an item that is
        null, of another type, or not all plain leaves) completes the whole list the
        usual way, which reports it where graphql-core does.
        """
        items = self._read_object_list(return_type, field_details_list, info, result)
        if items is not None:
            return items
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _read_object_list(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        result: Any,
    ) -> list[Any] | None:
        item_type = return_type.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType) or type(result) not in (list, tuple):
            return None
        if any(details.node.directives for details in field_details_list):
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            item_type, field_details_list
        )
        leaves = (
            None if new_defer_usages else self._leaves_of_selection(item_type, grouped_field_set)
        )
        if leaves is None:
            return None
        is_type_of = item_type.is_type_of
        completed = []
        for item in result:
            if item is None or (is_type_of is not None and is_type_of(item, info) is not True):
                return None
            fields = self._read_leaves(item, leaves)
            if fields is None:
                return None
            completed.append(fields)
        return completed

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
                # The common cases first, answered as the leaf type would answer them.
                kind = type(value)
                if kind is leaf.unchanged and (kind is not int or _INT_MIN <= value <= _INT_MAX):
                    results[response_name] = value
                    continue
                if kind is leaf.enum_class:
                    results[response_name] = leaf.names[value]
                    continue
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
