"""Core statements compiled once by the engine's dialect, for running on the driver directly.

SQLAlchemy builds and compiles the statement, and its column types' own
processors encode the parameters and decode the values, so a row reads (and a
value is stored) exactly as through the engine. What is skipped is the async
engine's per-statement machinery: a greenlet switch, an execution context,
and on SQLite aiosqlite's thread hop. `db.fast_reads` and
`db.asyncpg_writes` and `db.sqlite_writes` run what is compiled here.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

StatementListener = Callable[[str], None]
"""Told the SQL of every statement sent on the driver directly (tests count them)."""
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
"""One statement's values by name, or a list of them (executemany), as `execute` takes them."""

Processor = Callable[[Any], Any] | None
Decoder = tuple[int, Callable[[Any], Any], bool]
# Decoded values that may be shared between rows: nothing can change them.
_IMMUTABLE = (str, int, float, bytes, datetime, date, time, timedelta, Decimal, UUID, type(None))
# Statements built per call (with their values inside) are compiled at each call;
# the module-level ones, with bindparams, stay among the most recently used.
_MOST_STATEMENTS_KEPT = 256


class Listeners:
    """Who is told of each statement sent on the driver."""

    def __init__(self) -> None:
        self._listeners: list[StatementListener] = []

    def listen(self, listener: StatementListener) -> Callable[[], None]:
        """Tell `listener` of every statement sent from now on; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def told(self, sql: str) -> None:
        for listener in self._listeners:
            listener(sql)


class DriverResult:
    """A statement's rows (attributes named as its columns) and how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    fetchall = all

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if not self._rows:
            raise exc.NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


def parameter_sets(parameters: Parameters) -> list[Mapping[str, Any]]:
    """The value sets a statement runs with: one, or several for an executemany."""
    if parameters is None or isinstance(parameters, Mapping):
        return [parameters or {}]
    return list(parameters) or [{}]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement as the driver takes it, with the engine's own value processing."""

    sql: str
    compiled: Any  # sqlalchemy.engine.Compiled, for its bound parameters' defaults
    parameter_names: tuple[str, ...]
    bind_processors: tuple[Processor, ...]
    result_processors: tuple[Processor, ...]
    row: type[tuple[Any, ...]]
    returns_rows: bool
    decoders: tuple[Decoder, ...]
    """Each column that has a result processor: its index, the processor, and whether
    it leaves a NULL as it is (then a NULL needs no call)."""

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect, column_keys: Sequence[str]) -> Compiled:
        """`statement` compiled for `dialect`; an INSERT or UPDATE sets `column_keys`."""
        # render_postcompile: an IN of a list of values (built per call) is sent as
        # one parameter per value, as the engine expands it at execution.
        compiled = cast(
            SQLCompiler,
            cast(ClauseElement, statement).compile(
                dialect=dialect,
                column_keys=list(column_keys) or None,
                compile_kwargs={"render_postcompile": True},
            ),
        )
        names = tuple(compiled.positiontup or ())
        binds = tuple(
            _bind_type(compiled, name).dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        # A SELECT's columns, or the RETURNING columns of an INSERT, UPDATE or DELETE.
        columns = list(getattr(statement, "exported_columns", ()))
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        # rename: an unlabelled expression (count(*)) has no name; its row reads it by index.
        row = namedtuple("Row", [str(column.key) for column in columns], rename=True)  # type: ignore[misc]
        dml = bool(getattr(statement, "is_dml", False))
        returns_rows = bool(columns) or not dml
        return cls(
            str(compiled), compiled, names, binds, results, row, returns_rows, _decoders(results)
        )

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(dict(parameters))
        return [
            value if process is None else process(value)
            for process, value in zip(
                self.bind_processors, (values[name] for name in self.parameter_names), strict=True
            )
        ]

    def rows(self, raw_rows: Sequence[Sequence[Any]]) -> list[Any]:
        if not self.result_processors:
            return [tuple(raw) for raw in raw_rows]  # a text() statement: its values as sent
        make = self.row._make  # type: ignore[attr-defined]
        decoders = self.decoders
        rows = []
        # A join repeats the parent's columns on every row: a value that came in the
        # row before is not decoded again, when what it decodes to cannot be changed.
        last_raw: Sequence[Any] = ()
        last: list[Any] = []
        for raw in raw_rows:
            values = list(raw)
            for index, decode, keeps_none in decoders:
                value = values[index]
                if value is None and keeps_none:
                    continue
                if last_raw:
                    before = last_raw[index]
                    if (
                        type(before) is type(value)
                        and before == value
                        and isinstance(last[index], _IMMUTABLE)
                    ):
                        values[index] = last[index]
                        continue
                values[index] = decode(value)
            rows.append(make(values))
            last_raw, last = raw, values
        return rows


def _decoders(processors: Sequence[Processor]) -> tuple[Decoder, ...]:
    return tuple(
        (index, process, _keeps_none(process))
        for index, process in enumerate(processors)
        if process is not None
    )


def _keeps_none(process: Callable[[Any], Any]) -> bool:
    try:
        return process(None) is None
    except Exception:  # a processor that does not expect NULL: it is called as it is
        return False


def _bind_type(compiled: SQLCompiler, name: str) -> TypeEngine[Any]:
    bind = compiled.binds.get(name)
    if bind is None:  # one value of an expanded IN list: "id_1_2" of "id_1"
        bind = compiled.binds[name.rpartition("_")[0]]
    return bind.type


class CompiledStatements:
    """Statements compiled for the dialect on first use, the most recently used kept."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: OrderedDict[tuple[int, tuple[str, ...]], tuple[Executable, Compiled]] = (
            OrderedDict()
        )

    def for_values(self, statement: Executable, values: Mapping[str, Any]) -> Compiled:
        """`statement` compiled to run with `values`: an INSERT or UPDATE sets the columns
        they name, as through the engine."""
        keys = tuple(sorted(values)) if getattr(statement, "is_dml", False) else ()
        return self.get(statement, keys)

    def get(self, statement: Executable, column_keys: tuple[str, ...] = ()) -> Compiled:
        # Keyed by identity: the hot statements are module-level, with bindparams,
        # built once. The statement is kept with its entry so its id is not reused
        # while the entry is there.
        key = (id(statement), column_keys)
        found = self._compiled.get(key)
        if found is None:
            found = (statement, Compiled.of(statement, self.dialect, column_keys))
            self._compiled[key] = found
            if len(self._compiled) > _MOST_STATEMENTS_KEPT:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        return found[1]


class DriverWriter(Listeners):
    """Write transactions on a driver: the statements they compiled, who is told of each."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__()
        self.statements = CompiledStatements(dialect)

    def prepared(
        self, statement: Executable, parameters: Parameters
    ) -> tuple[Compiled, list[Mapping[str, Any]]]:
        """`statement` compiled for its values, and those values; its listeners told of it."""
        each = parameter_sets(parameters)
        compiled = self.statements.for_values(statement, each[0])
        self.told(compiled.sql)
        return compiled, each


WriterT = TypeVar("WriterT", bound=DriverWriter)


class DriverWriteConnection(Generic[WriterT]):
    """A write transaction's connection on a driver; its `execute` is the driver's own."""

    __slots__ = ("_driver", "_writer")

    def __init__(self, driver: Any, writer: WriterT) -> None:
        self._driver = driver
        self._writer = writer

    @property
    def dialect(self) -> Dialect:
        return self._writer.statements.dialect
