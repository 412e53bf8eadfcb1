"""The identity a verified token vouches for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["MAX_SUBJECT_LENGTH", "AuthenticatedUser", "is_usable_subject"]

# OpenID Connect caps `sub` at 255 characters, and so do our user_id columns.
MAX_SUBJECT_LENGTH = 255

# Control characters (C0 with NUL, DEL, C1) and UTF-16 surrogates: JSON escapes
# can carry them, but PostgreSQL text refuses NUL and no UTF-8 holds a lone
# surrogate, so a value with any of them is not text we can store or send on.
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def is_usable_subject(sub: object) -> bool:
    """Whether `sub` can be a user id: non-blank text of at most 255 characters."""
    return (
        isinstance(sub, str)
        and bool(sub.strip())
        and len(sub) <= MAX_SUBJECT_LENGTH
        and not _NOT_TEXT.search(sub)
    )


@dataclass(frozen=True, slots=True)
class AuthenticatedUser:
    """Whoever the verified token says: `id` is the token's `sub`, nothing else."""

    id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    expires_at: datetime
    claims: Mapping[str, Any]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, expires_at: datetime) -> AuthenticatedUser:
        """Build from claims the verifier has already checked (`is_usable_subject(sub)`)."""
        return cls(
            id=claims["sub"],
            email=_string_claim(claims, "email"),
            # Clerk templates use first_name/last_name; OIDC issuers use given/family_name.
            first_name=_string_claim(claims, "first_name", "given_name"),
            last_name=_string_claim(claims, "last_name", "family_name"),
            expires_at=expires_at,
            claims=claims,
        )


def _string_claim(claims: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = claims.get(name)
        # A profile claim that is not clean text is left out rather than refusing
        # the token: it only decorates the identity, `sub` is the identity.
        if isinstance(value, str) and not _NOT_TEXT.search(value):
            return value
    return None
