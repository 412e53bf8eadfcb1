"""Fixtures the security tests share: a second published key."""

from __future__ import annotations

import pytest

from tests.support.jwks_server import SigningKey


@pytest.fixture(scope="session")
def second_key() -> SigningKey:
    """A second key the issuer publishes (rotation, ambiguity without a kid)."""
    return SigningKey.generate("test-key-2")
