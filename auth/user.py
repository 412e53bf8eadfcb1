"""The identity a verified token vouches for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["AuthenticatedUser"]


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
        """Build from claims the verifier has already checked (`sub` is a non-empty string)."""
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
        if isinstance(value, str):
            return value
    return None
