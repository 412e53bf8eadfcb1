"""Reading the bearer token out of an `Authorization` header (RFC 6750)."""

from __future__ import annotations

import re

from auth.errors import InvalidTokenError

__all__ = ["bearer_token"]

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def bearer_token(authorization_header: str | None) -> str | None:
    """Return the bearer token, None when no credentials were sent.

    Anything that looks like an attempt to authenticate but is not a well-formed
    bearer JWT raises `InvalidTokenError`: treating it as anonymous would hide
    client bugs and let a broken login look like a logged-out user.
    """
    if authorization_header is None:
        return None
    # Frontends commonly send `Authorization: ""` when signed out (Apollo's own
    # docs do), so an empty header means "no credentials", not a bad token.
    header = authorization_header.strip(" \t")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidTokenError("unsupported authorization scheme")
    token = credentials.lstrip(" ")
    if not token:
        raise InvalidTokenError("empty bearer token")
    # The pattern admits no whitespace, so it also refuses "Bearer a b".
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidTokenError("malformed bearer token")
    return token
