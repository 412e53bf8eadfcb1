"""Records to and from rows: each field of a record is the column of the same name.

The repositories name only what differs (a status to parse, a JSON list to
freeze, a labelled column), so a column added to a record and its table is
read and written without touching every copy.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordT = TypeVar("RecordT", bound="DataclassInstance")


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(record_type))


def from_row(record_type: type[RecordT], row: Any, **converted: Any) -> RecordT:
    """A `record_type` of the row's columns named as its fields, but those given in `converted`."""
    return record_type(
        **{name: getattr(row, name) for name in _field_names(record_type) if name not in converted},
        **converted,
    )


def column_values(record: DataclassInstance, **converted: Any) -> dict[str, Any]:
    """The record's fields by name, as an INSERT's values, but those given in `converted`."""
    return {name: getattr(record, name) for name in _field_names(type(record))} | converted
