"""Encryption of step secrets at rest (Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, MultiFernet


class SecretBox:
    """Seals JSON-able secrets; the first key encrypts, any listed key decrypts.

    Listing an old key after a new one lets secrets written before a key
    rotation still be read.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, secrets: Any) -> bytes:
        return self._fernet.encrypt(json.dumps(secrets, separators=(",", ":")).encode())

    def open(self, sealed: bytes) -> Any:
        return json.loads(self._fernet.decrypt(sealed))
