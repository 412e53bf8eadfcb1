"""Request JSON that every layer behind the HTTP edge can store and answer with.

Python's `json` accepts `NaN`, `Infinity` and `-Infinity`, turns `1e400` into
an infinite float, and lets `"\\ud800"` (or the raw bytes of a surrogate)
through as a lone surrogate. None of them survives the way back: a float that
is not finite has no JSON spelling, PostgreSQL refuses it, and a lone
surrogate cannot be encoded as UTF-8. So a request carrying any of them is
refused before it is read, as malformed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import NoReturn

from resolvers.json_input import has_lone_surrogate


class UnrepresentableJSONError(ValueError):
    """The JSON is well formed but holds a value that cannot be stored or sent back."""


def _refuse_constant(name: str) -> NoReturn:
    raise UnrepresentableJSONError(f"The JSON contains {name}; only finite numbers are accepted.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnrepresentableJSONError(
            f"The JSON contains the number {text[:40]}, too large for a 64-bit float."
        )
    return value


def _strings(value: object) -> Iterator[str]:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def loads_request_json(data: str | bytes) -> object:
    """Decode request JSON, refusing what it could never answer with (see the module doc)."""
    value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    # The decoder pairs "\ud83d\ude00" into the one character it stands for, so
    # any surrogate left in a string is a lone one.
    if any(has_lone_surrogate(text) for text in _strings(value)):
        raise UnrepresentableJSONError(
            "The JSON contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character."
        )
    return value
