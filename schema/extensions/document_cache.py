"""Caches of what is worked out from a document's text, bounded by the bytes they hold.

Anyone can send a document, so a cache keyed on the text would keep every
distinct text a client ever sent: 1 MB anonymous documents once grew a worker
to 1.8 GiB. Here an entry is keyed by the text's SHA-256 (32 bytes, whatever
the text's size), charged what its value really holds in memory (measured
object by object, as `sys.getsizeof` counts), and the least recently used
entries go once the total passes the cache's byte bound. An entry bigger than
an eighth of the bound is not kept at all: no client's document is that big,
and keeping it would push out many that are.
"""

from __future__ import annotations

import enum
import gc
import hashlib
import sys
import types
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from cachetools import LRUCache
from graphql import GraphQLDirective, GraphQLNamedType, GraphQLSchema

V = TypeVar("V")

# Objects every document shares (classes, functions, modules, enum members) or
# that belong to the schema are not charged to an entry.
_SHARED = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    enum.Enum,
    GraphQLSchema,
    GraphQLNamedType,
    GraphQLDirective,
)
# The key (a digest and a few small parts) and the cache's own bookkeeping per entry.
ENTRY_OVERHEAD_BYTES = 400
LARGEST_ENTRY_SHARE = 8
DEFAULT_CACHE_BYTES = 16 * 1024 * 1024


@lru_cache(maxsize=1)
def document_digest(text: str) -> bytes:
    """SHA-256 of the text; the request being served asks for it once per cache."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def retained_bytes(value: object, stop_above: int = sys.maxsize) -> int:
    """The bytes the objects reachable from `value` occupy, each counted once.

    Counting ends as soon as the total passes `stop_above` (the caller will not
    keep the value then), so measuring a huge value costs no more than a large one.
    """
    seen: set[int] = set()
    pending = [value]
    total = 0
    while pending:
        current = pending.pop()
        if id(current) in seen or isinstance(current, _SHARED):
            continue
        seen.add(id(current))
        total += sys.getsizeof(current)
        if total > stop_above:
            break
        pending.extend(gc.get_referents(current))
    return total


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    size: int


def _entry_size(entry: _Entry[V]) -> int:
    return entry.size


class DocumentCache(Generic[V]):
    """Values computed from a document's text, under a bound on the bytes they hold."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.largest_entry_bytes = max_bytes // LARGEST_ENTRY_SHARE
        # maxsize is in bytes here: cachetools sums getsizeof over the entries.
        self._entries: LRUCache[Hashable, _Entry[V]] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_entry_size
        )

    @property
    def bytes_held(self) -> int:
        """What the entries are charged in total; never above `max_bytes`."""
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(self, text: str, compute: Callable[[], V], *qualifiers: Hashable) -> V:
        """The value for `text` (and `qualifiers`, which must be small), computing it if new.

        An exception from `compute` propagates and nothing is kept.
        """
        key = (document_digest(text), *qualifiers)
        entry = self._entries.get(key)
        if entry is not None:
            return entry.value
        value = compute()
        self._keep(key, value)
        return value

    def get(self, text: str, *qualifiers: Hashable) -> V | None:
        """The value kept for `text` and `qualifiers`, if any."""
        entry = self._entries.get((document_digest(text), *qualifiers))
        return entry.value if entry is not None else None

    def put(self, text: str, value: V, *qualifiers: Hashable) -> None:
        """Keep `value` for `text` and `qualifiers` (unless it is too big to keep)."""
        self._keep((document_digest(text), *qualifiers), value)

    def _keep(self, key: Hashable, value: V) -> None:
        size = ENTRY_OVERHEAD_BYTES + retained_bytes(value, stop_above=self.largest_entry_bytes)
        if size <= self.largest_entry_bytes:
            self._entries[key] = _Entry(value, size)
