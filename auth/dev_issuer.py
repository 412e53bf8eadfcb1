"""A local token issuer for development, verified exactly like the real one.

There is no "skip auth" switch: in development the app publishes this issuer's
public JWKS and verifies its tokens with the same `TokenVerifier` and
`JWKSCache` used in production.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["DevIssuer"]

KEY_FILE_NAME = "dev-issuer-key.pem"


class DevIssuer:
    DEV_ISSUER: ClassVar[str] = "urn:onboarding-api:dev-issuer"

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private_key = private_key
        numbers = private_key.public_key().public_numbers()
        self._public_jwk = {
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }
        self._kid = _rfc7638_thumbprint(self._public_jwk)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DevIssuer:
        """Load the key pair kept in `data_dir`, creating it on first use.

        Blocking file I/O: call it at startup, not per request.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        key_path = data_dir / KEY_FILE_NAME
        if not key_path.exists():
            _publish_new_key(key_path)
        # Re-read even after creating: if another process won the race, its key
        # is the one on disk and the one every process must use.
        private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} does not hold an RSA private key")
        return cls(private_key)

    @property
    def issuer(self) -> str:
        return self.DEV_ISSUER

    @property
    def kid(self) -> str:
        return self._kid

    def jwks(self) -> dict[str, Any]:
        """The public JWKS, as served at `/.well-known/jwks.json`."""
        return {"keys": [{**self._public_jwk, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    async def fetch_jwks(self) -> Mapping[str, Any]:
        """A `JWKSCache` fetcher that needs no HTTP round trip."""
        return self.jwks()

    def mint(
        self,
        sub: str,
        *,
        email: str | None = None,
        ttl: timedelta = timedelta(hours=1),
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.DEV_ISSUER,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl.total_seconds()),
        }
        if email is not None:
            claims["email"] = email
        claims.update(extra_claims or {})
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self._kid})


def _publish_new_key(key_path: Path) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # mkstemp creates the file 0600, so the key is never readable by others,
    # not even for a moment.
    fd, temp_name = tempfile.mkstemp(dir=key_path.parent, prefix=".dev-issuer-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(pem)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        # link(), unlike replace(), fails if the target exists: processes
        # starting together cannot overwrite each other's key.
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, key_path)
    finally:
        os.unlink(temp_name)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _rfc7638_thumbprint(public_jwk: Mapping[str, str]) -> str:
    # RFC 7638: required members only, lexicographic order, no whitespace.
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": public_jwk["kty"], "n": public_jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
