"""Limits on the free-form JSON a client sends: step data and the website analysis.

Both are stored or passed on as they came, so one rule decides what is too
much: the UTF-8 size of their JSON text, which a value nested too deeply for
`json` to write cannot even have. And one rule decides what cannot be stored
at all: a number JSON cannot write (NaN, ±Infinity, which a GraphQL literal
such as `1e400` or a 400-digit integer becomes) and a string UTF-8 cannot
encode (a lone surrogate). The HTTP edge already refuses both in request
JSON; literals in the document and any other way in meet them here, each
reported at its own path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping

from resolvers.errors import ErrorCode, Problem

MAX_JSON_BYTES = 256 * 1024
# Keys and indices from the top to the deepest value. Far deeper than any form;
# shallow enough that code walking the data recursively (masking secrets)
# never meets Python's recursion limit.
MAX_JSON_DEPTH = 100
# Enough for a form to mark every bad field a person could have typed, small
# enough that a document full of `1e400` cannot make the answer huge.
MAX_REPORTED = 20

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a UTF-16 surrogate that UTF-8 (and so every database) refuses."""
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """`text` with lone surrogates written as `\\udXXX`, safe to put in an answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _encoded_size(value: object) -> int | None:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return None
    return len(text.encode("utf-8", "surrogatepass"))


class _TooDeepError(Exception):
    pass


def _unstorable(value: object, path: tuple[str, ...]) -> Iterator[Problem]:
    # Iterative, so the walk cannot run out of stack where `json` did not. Each
    # entry carries the key it was found under, checked when it is reached, so
    # problems come out in the order the client wrote them.
    pending: list[tuple[object, tuple[str, ...], object]] = [(value, path, None)]
    while pending:
        item, where, key = pending.pop()
        if len(where) - len(path) > MAX_JSON_DEPTH:
            raise _TooDeepError
        if isinstance(key, str) and has_lone_surrogate(key):
            message = f"The key {where[-1]!r} contains a lone UTF-16 surrogate."
            yield Problem(ErrorCode.VALIDATION_FAILED, message, where)
        if isinstance(item, float) and not math.isfinite(item):
            message = "must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 are not)"
            yield Problem(ErrorCode.VALIDATION_FAILED, f"{where[-1]} {message}.", where)
        elif isinstance(item, str) and has_lone_surrogate(item):
            message = "contains a lone UTF-16 surrogate, which is not a character"
            yield Problem(ErrorCode.VALIDATION_FAILED, f"{where[-1]} {message}.", where)
        elif isinstance(item, Mapping):
            children = [(child, (*where, printable(str(k))), k) for k, child in item.items()]
            pending.extend(reversed(children))
        elif isinstance(item, list):
            pending.extend(
                reversed([(child, (*where, str(i)), None) for i, child in enumerate(item)])
            )


def json_problems(value: object, name: str, path: tuple[str, ...]) -> list[Problem]:
    """Why `value`, the client's `name` at `path`, cannot be accepted; empty when it can.

    Too large or nested more than `MAX_JSON_DEPTH` levels is one problem at
    `path`; otherwise every value that cannot be stored is reported at its own
    path (the first `MAX_REPORTED` of them), so a form can mark each one.
    """
    too_deep = [Problem(ErrorCode.VALIDATION_FAILED, f"{name} is nested too deeply.", path)]
    size = _encoded_size(value)
    if size is None:
        return too_deep
    if size > MAX_JSON_BYTES:
        message = f"{name} is larger than {MAX_JSON_BYTES // 1024} KiB."
        return [Problem(ErrorCode.VALIDATION_FAILED, message, path)]
    problems: list[Problem] = []
    try:
        for problem in _unstorable(value, path):
            if len(problems) < MAX_REPORTED:
                problems.append(problem)
    except _TooDeepError:
        return too_deep
    return problems
