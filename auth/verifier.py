"""Turning a bearer token into an `AuthenticatedUser`, or refusing it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cachetools import LRUCache

from auth.bearer import bearer_token
from auth.errors import InvalidTokenError
from auth.jwks import JWKSCache
from auth.user import AuthenticatedUser, is_usable_subject

__all__ = ["MAX_TOKEN_LENGTH", "TokenVerifier", "authenticate"]

# Clerk session tokens are ~1 KiB; anything this large is abuse, and refusing
# it before parsing keeps base64/JSON decoding cost bounded.
MAX_TOKEN_LENGTH = 8 * 1024

# Headers that carry or point at a key: honouring any of them lets the token
# choose the key that verifies it. We only ever trust the issuer's JWKS.
_KEY_BEARING_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c"})

_REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss"]

# Enough for every live session of a busy deployment: Clerk tokens live 60 s.
VERIFIED_TOKENS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class _Verified:
    user: AuthenticatedUser
    kid: str | None
    key: jwt.PyJWK
    valid_until: float


_PYJWT_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidIssuerError, "issuer mismatch"),
    (jwt.InvalidAudienceError, "audience mismatch"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.exceptions.InvalidSubjectError, "invalid sub claim"),
    (jwt.DecodeError, "malformed token"),
)


class TokenVerifier:
    """Verifies RS256 session JWTs from one issuer (Clerk-style).

    Every refusal is an `InvalidTokenError`; `JWKSUnavailableError` escapes when
    the issuer's keys cannot be obtained at all.
    """

    def __init__(
        self,
        keys: JWKSCache,
        *,
        issuer: str,
        audience: str | None = None,
        authorized_parties: Sequence[str] = (),
        leeway_seconds: float = 60,
        algorithms: Sequence[str] = ("RS256",),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` tells the time as seconds since the epoch, the unit of `exp`/`iat`/`nbf`."""
        if not issuer:
            raise ValueError("issuer must be configured")
        unsafe = [
            alg for alg in algorithms if alg.lower() == "none" or alg.upper().startswith("HS")
        ]
        if unsafe or not algorithms:
            # Symmetric algorithms would verify with the *public* key as the
            # secret (algorithm confusion); `none` verifies nothing.
            raise ValueError(f"algorithms must be asymmetric and non-empty, got {list(algorithms)}")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._authorized_parties = frozenset(authorized_parties)
        self._leeway = leeway_seconds
        self._algorithms = list(algorithms)
        self._clock = clock
        self._verified: LRUCache[str, _Verified] = LRUCache(maxsize=VERIFIED_TOKENS_KEPT)

    async def verify(self, token: str) -> AuthenticatedUser:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError("token too large")
        # A token already verified is accepted again only while it would still
        # verify: before its expiry (plus leeway) and while the issuer still
        # publishes the very key object that checked it (a refresh that drops or
        # replaces the key forces a full verification). The key lookup also keeps
        # the JWKS refresh schedule running.
        verified = self._verified.get(token)
        if (
            verified is not None
            and self._clock() < verified.valid_until
            and await self._keys.get_signing_key(verified.kid) is verified.key
        ):
            return verified.user
        user, kid, key = await self._verify_fully(token)
        self._verified[token] = _Verified(
            user, kid, key, user.expires_at.timestamp() + self._leeway
        )
        return user

    async def _verify_fully(self, token: str) -> tuple[AuthenticatedUser, str | None, jwt.PyJWK]:
        header, unverified_claims = _unverified_parts(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise InvalidTokenError("algorithm not allowed")
        if _KEY_BEARING_HEADERS & header.keys():
            raise InvalidTokenError("embedded key headers not allowed")

        # Pin the issuer before touching the key cache: a token from a foreign
        # issuer must not be able to make us fetch anything.
        if unverified_claims.get("iss") != self._issuer:
            raise InvalidTokenError("issuer mismatch")

        kid = header.get("kid")  # PyJWT has already checked it is a string if present
        key = await self._keys.get_signing_key(kid)
        claims = self._decode(token, key)
        user = AuthenticatedUser.from_claims(claims, expires_at=self._check_claims(claims))
        return user, kid, key

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_aud": self._audience is not None,
                    # PyJWT reads the system clock; `_check_claims` checks the
                    # times against ours instead.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"missing {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(_reason_for(exc)) from None

    def _check_claims(self, claims: Mapping[str, Any]) -> datetime:
        """Checks PyJWT leaves loose; returns the expiry."""
        now = self._clock()
        # JSON numbers only, compared exactly: PyJWT's int() would accept "123"
        # and truncate fractions.
        exp = _numeric_claim(claims, "exp")
        if _numeric_claim(claims, "iat") > now + self._leeway:
            raise InvalidTokenError("token not yet valid")
        if "nbf" in claims and _numeric_claim(claims, "nbf") > now + self._leeway:
            raise InvalidTokenError("token not yet valid")
        if exp <= now - self._leeway:
            raise InvalidTokenError("token expired")

        # Refused here, not when the database chokes on it (VARCHAR(255), no NUL).
        if not is_usable_subject(claims.get("sub")):
            raise InvalidTokenError("invalid sub claim")

        if self._authorized_parties:
            # Clerk's SDK rejects a missing azp too: otherwise a token minted
            # for another of the issuer's apps would be accepted here.
            azp = claims.get("azp")
            if not isinstance(azp, str) or azp not in self._authorized_parties:
                raise InvalidTokenError("unauthorized party")
        try:
            return datetime.fromtimestamp(exp, tz=UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidTokenError("invalid exp claim") from None


async def authenticate(
    authorization_header: str | None, verifier: TokenVerifier
) -> AuthenticatedUser | None:
    """None for an anonymous request; raises `InvalidTokenError` for a bad token."""
    token = bearer_token(authorization_header)
    if token is None:
        return None
    return await verifier.verify(token)


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, read (not trusted) in one parse: they decide what to check."""
    try:
        parts = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidTokenError("malformed token") from None
    return parts["header"], parts["payload"]


def _numeric_claim(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"invalid {name} claim")
    return float(value)


def _reason_for(error: jwt.PyJWTError) -> str:
    for error_type, reason in _PYJWT_REASONS:
        if isinstance(error, error_type):
            return reason
    return "invalid token"
