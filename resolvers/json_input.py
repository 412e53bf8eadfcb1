"""Limits on the free-form JSON a client sends: step data and the website analysis.

Both are stored or passed on as they came, so one rule decides what is too
much: the UTF-8 size of their JSON text, which a value nested too deeply for
`json` to write cannot even have.
"""

from __future__ import annotations

import json

from resolvers.errors import ErrorCode, Problem

MAX_JSON_BYTES = 256 * 1024


def _encoded_size(value: object) -> int | None:
    try:
        return len(json.dumps(value, ensure_ascii=False).encode())
    except (RecursionError, ValueError, TypeError):
        return None


def json_problems(value: object, name: str, path: tuple[str, ...]) -> list[Problem]:
    """Why `value`, the client's `name` at `path`, cannot be accepted; empty when it can."""
    size = _encoded_size(value)
    if size is None:
        return [Problem(ErrorCode.VALIDATION_FAILED, f"{name} is nested too deeply.", path)]
    if size > MAX_JSON_BYTES:
        message = f"{name} is larger than {MAX_JSON_BYTES // 1024} KiB."
        return [Problem(ErrorCode.VALIDATION_FAILED, message, path)]
    return []
