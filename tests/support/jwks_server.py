"""A real JWKS endpoint on 127.0.0.1 and an RSA issuer to mint tokens for it.

Tests talk to it over actual HTTP so the key cache is exercised the way it
runs in production: connection refused when the issuer is down, real JSON,
real concurrency.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auth import InvalidTokenError, JWKSCache, TokenVerifier
from tests.support.started import StartedByWith

__all__ = [
    "DEFAULT_ISSUER",
    "JWKSServer",
    "SigningKey",
    "encode_segments",
    "mint",
]

DEFAULT_ISSUER = "https://issuer.test"
JWKS_PATH = "/.well-known/jwks.json"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            self.private_key.public_key(), as_dict=True
        )
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def mint(key: SigningKey, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """An RS256 token for `key`: valid for 60 s from `DEFAULT_ISSUER` as "user-a".

    Override any claim or header by keyword; pass `None` to leave one out
    (`headers={"kid": None}` mints a token without a key id).
    """
    now = int(time.time())
    payload: dict[str, Any] = {"iss": DEFAULT_ISSUER, "sub": "user-a", "iat": now, "exp": now + 60}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    header = {"kid": key.kid, **(headers or {})}
    header = {name: value for name, value in header.items() if value is not None}
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers=header)


def encode_segments(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand, for tokens PyJWT refuses to produce."""

    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    return ".".join(
        (
            segment(json.dumps(header).encode()),
            segment(json.dumps(payload).encode()),
            segment(signature),
        )
    )


class JWKSServer(StartedByWith):
    """Serves `{"keys": [...]}` from `.keys` at `.url`; counts every fetch.

    `failing_with = 503` keeps it listening but answering that status, an
    issuer that is down yet still counts every fetch it is sent. `page_instead`
    answers those bytes with 200, as a proxy's error page in front of it would.
    """

    def __init__(self, keys: list[SigningKey] | None = None) -> None:
        self.keys: list[SigningKey] = list(keys or [])
        self.failing_with: int | None = None
        self.page_instead: bytes | None = None
        self._port = 0
        self._fetch_count = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{JWKS_PATH}"

    @property
    def fetch_count(self) -> int:
        with self._lock:
            return self._fetch_count

    def start(self) -> None:
        """Listen (again on the same port after `stop()`)."""
        if self._server is not None:
            return
        server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler_class())
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        # A short poll interval keeps stop() (which waits for the poll) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket so fetches fail with connection refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = None
        self._thread = None

    def close(self) -> None:
        self.stop()

    def _answer(self) -> tuple[int, bytes]:
        with self._lock:
            self._fetch_count += 1
            if self.failing_with is not None:
                return self.failing_with, b'{"error": "down"}'
            if self.page_instead is not None:
                return 200, self.page_instead
            keys = [key.public_jwk() for key in self.keys]
        return 200, json.dumps({"keys": keys}).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        jwks_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                status, body = jwks_server._answer()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


@dataclass
class TrustedIssuer:
    """The issuer's JWKS endpoint, its two keys, and the key cache and verifier that trust it."""

    server: JWKSServer
    cache: JWKSCache
    verifier: TokenVerifier
    key_1: SigningKey
    key_2: SigningKey

    def publish_key_2(self) -> None:
        self.server.keys = [self.key_1, self.key_2]

    def withdraw_key_2(self) -> None:
        self.server.keys = [self.key_1]

    async def refused(self, token: str) -> None:
        """The verifier refuses `token` for want of its signing key."""
        with pytest.raises(InvalidTokenError, match="unknown signing key"):
            await self.verifier.verify(token)
