"""Opaque global ids (`base64("Type:key")`, as Relay clients expect) and list cursors.

Every id names one of the viewer's own objects, so the key is what the viewer
already holds:

- `CompetitorDiscovery:<uuid>`: the stored discovery's random id (unchanged since v1);
- `OnboardingProgress:<sub>` and `OnboardingStep:<sub>:<number>`: a user has one
  progress, so its key is the user id. That id is the `sub` the viewer's own
  token carries and `Viewer.id` answers; ids are only ever made for the viewer,
  so no id carries another user's `sub`;
- `Competitor:<uuid>:<domain>`, `SocialMediaAccounts:<uuid>`,
  `ResearchSummary:<uuid>` and `SocialMediaCitation:<uuid>:<position>`: values
  inside one stored discovery, keyed by it so normalized caches can hold them.

The keys are stable (nothing random per request or per process, no server key
to rotate) and decoding needs no database read: `parse_node_id` answers None
for anything malformed or of a type `node` does not serve.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

DISCOVERY_TYPE = "CompetitorDiscovery"
PROGRESS_TYPE = "OnboardingProgress"
STEP_TYPE = "OnboardingStep"
_CURSOR_PREFIX = "discovery:"
# Far longer than any id we give out (a `sub` is at most 255 characters); a
# longer id is refused before it is decoded.
MAX_GLOBAL_ID_LENGTH = 1024


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


@dataclass(frozen=True, slots=True)
class DiscoveryRef:
    """A discovery's global id, decoded: the stored discovery's id."""

    discovery_id: str


@dataclass(frozen=True, slots=True)
class ProgressRef:
    """A progress's global id, decoded: whose progress it is."""

    user_id: str


@dataclass(frozen=True, slots=True)
class StepRef:
    """A step's global id, decoded: whose step, and which."""

    user_id: str
    number: int


NodeRef = DiscoveryRef | ProgressRef | StepRef


def discovery_global_id(discovery_id: str) -> str:
    return _b64(f"{DISCOVERY_TYPE}:{discovery_id}")


def progress_global_id(user_id: str) -> str:
    return _b64(f"{PROGRESS_TYPE}:{user_id}")


def step_global_id(user_id: str, number: int) -> str:
    return _b64(f"{STEP_TYPE}:{user_id}:{number}")


def discovery_part_id(type_name: str, discovery_id: str, *key: str | int) -> str:
    """The cache key of a value inside a stored discovery, e.g. one competitor by domain."""
    return _b64(":".join((type_name, discovery_id, *(str(part) for part in key))))


def _user_id(text: str) -> str | None:
    return text if text and len(text) <= 255 else None


def parse_node_id(global_id: str) -> NodeRef | None:
    """What a global id names; None for anything malformed or of a type `node` does not serve."""
    if len(global_id) > MAX_GLOBAL_ID_LENGTH:
        return None
    decoded = _unb64(global_id)
    # Only the id we gave out: base64 has other spellings of the same bytes.
    if decoded is None or _b64(decoded) != global_id:
        return None
    kind, _, key = decoded.partition(":")
    if kind == DISCOVERY_TYPE:
        discovery_id = _canonical_uuid(key)
        return DiscoveryRef(discovery_id) if discovery_id is not None else None
    if kind == PROGRESS_TYPE:
        user_id = _user_id(key)
        return ProgressRef(user_id) if user_id is not None else None
    if kind == STEP_TYPE:
        owner, _, number = key.rpartition(":")
        user_id = _user_id(owner)
        # Only the canonical spelling: "01" or "+1" would be a second id for one step.
        if user_id is None or not number.isdigit() or str(int(number)) != number:
            return None
        return StepRef(user_id, int(number))
    return None


def discovery_key(global_id: str) -> str | None:
    """The stored id behind a discovery's global id; None for anything malformed."""
    ref = parse_node_id(global_id)
    return ref.discovery_id if isinstance(ref, DiscoveryRef) else None


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
