"""Authentication: the user is whoever the verified bearer token says (`sub`).

`bearer_token` reads the header, `TokenVerifier` checks the JWT against the
issuer's keys held by `JWKSCache`, and `DevIssuer` stands in for the identity
provider in development.
"""

from auth.bearer import bearer_token
from auth.dev_issuer import DevIssuer
from auth.errors import InvalidTokenError, JWKSFetchError, JWKSUnavailableError
from auth.jwks import JWKSCache, JWKSFetcher, http_jwks_fetcher
from auth.user import AuthenticatedUser
from auth.verifier import MAX_TOKEN_LENGTH, TokenVerifier, authenticate

__all__ = [
    "MAX_TOKEN_LENGTH",
    "AuthenticatedUser",
    "DevIssuer",
    "InvalidTokenError",
    "JWKSCache",
    "JWKSFetchError",
    "JWKSFetcher",
    "JWKSUnavailableError",
    "TokenVerifier",
    "authenticate",
    "bearer_token",
    "http_jwks_fetcher",
]
