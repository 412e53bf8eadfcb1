"""Opaque global ids (`base64("Type:key")`, as Relay clients expect) and list cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

DISCOVERY_TYPE = "CompetitorDiscovery"
_CURSOR_PREFIX = "discovery:"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _unb64(text: str) -> str | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _canonical_uuid(text: str) -> str | None:
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return str(value) if str(value) == text else None


def discovery_global_id(discovery_id: str) -> str:
    return _b64(f"{DISCOVERY_TYPE}:{discovery_id}")


def discovery_key(global_id: str) -> str | None:
    """The stored id behind a discovery's global id; None for anything malformed."""
    decoded = _unb64(global_id)
    if decoded is None:
        return None
    kind, _, key = decoded.partition(":")
    return _canonical_uuid(key) if kind == DISCOVERY_TYPE else None


def discovery_cursor(created_at: datetime, discovery_id: str) -> str:
    return _b64(f"{_CURSOR_PREFIX}{created_at.isoformat()}|{discovery_id}")


def parse_discovery_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) position a cursor points at; ValueError if it is not ours."""
    decoded = _unb64(cursor)
    if decoded is None or not decoded.startswith(_CURSOR_PREFIX):
        raise ValueError("not a discovery cursor")
    moment, _, key = decoded.removeprefix(_CURSOR_PREFIX).partition("|")
    created_at = datetime.fromisoformat(moment)
    discovery_id = _canonical_uuid(key)
    if created_at.tzinfo is None or discovery_id is None:
        raise ValueError("not a discovery cursor")
    return created_at, discovery_id
