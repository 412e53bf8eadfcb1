"""Why authentication failed, in terms the HTTP layer can map to a status.

    Exception
    ├── InvalidTokenError       the client sent a token we refuse       -> 401
    ├── JWKSUnavailableError    no key set was ever obtained from the
    │                           issuer, so nothing can be verified      -> 503
    └── JWKSFetchError          one attempt to fetch the issuer's JWKS
                                failed (kept internal to the key cache;
                                it only surfaces from explicit refreshes)

`InvalidTokenError.reason` is written for the client: short, stable, and free
of key material or token contents, so it can go straight into an error body.
"""

from __future__ import annotations

__all__ = ["InvalidTokenError", "JWKSFetchError", "JWKSUnavailableError"]


class InvalidTokenError(Exception):
    """A bearer token was presented and must not be trusted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JWKSUnavailableError(Exception):
    """The issuer's keys have never been fetched and the issuer cannot be reached.

    Distinct from `InvalidTokenError` because the token may be perfectly good:
    the fault is ours (or the issuer's), so clients should retry, not re-login.
    """


class JWKSFetchError(Exception):
    """One attempt to download or parse the issuer's JWKS failed."""
