"""DevIssuer: a persistent local key pair whose tokens pass the real verifier."""

from __future__ import annotations

import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from auth import DevIssuer, InvalidTokenError, JWKSCache, TokenVerifier
from auth.dev_issuer import KEY_FILE_NAME, _rfc7638_thumbprint


def test_key_pair_persists_across_loads(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    first = DevIssuer.load_or_create(data_dir)
    second = DevIssuer.load_or_create(data_dir)
    assert first.kid == second.kid
    assert first.jwks() == second.jwks()


def test_private_key_file_is_owner_only(tmp_path: Path) -> None:
    DevIssuer.load_or_create(tmp_path)
    mode = stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    # Given several starters racing on an empty data directory
    kids: list[str] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        kids.append(DevIssuer.load_or_create(tmp_path).kid)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then all of them use the same key, and no temp files are left behind
    assert len(set(kids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_jwks_publishes_only_public_material(tmp_path: Path) -> None:
    dev = DevIssuer.load_or_create(tmp_path)
    (jwk,) = dev.jwks()["keys"]
    assert set(jwk) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["use"], jwk["alg"], jwk["kid"]) == ("RSA", "sig", "RS256", dev.kid)


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # The worked example from RFC 7638 section 3.1
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
        "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert _rfc7638_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


async def test_minted_token_passes_the_real_verifier(tmp_path: Path) -> None:
    # Given the dev issuer wired exactly as production wires a real issuer
    dev = DevIssuer.load_or_create(tmp_path)
    verifier = TokenVerifier(JWKSCache(dev.fetch_jwks), issuer=dev.issuer)
    # When it mints a token
    token = dev.mint("user_dev", email="dev@example.com", extra_claims={"given_name": "Dev"})
    # Then the verifier accepts it as that user
    user = await verifier.verify(token)
    assert (user.id, user.email, user.first_name) == ("user_dev", "dev@example.com", "Dev")
    assert dev.issuer == DevIssuer.DEV_ISSUER == "urn:onboarding-api:dev-issuer"


async def test_expired_dev_token_is_rejected(tmp_path: Path) -> None:
    dev = DevIssuer.load_or_create(tmp_path)
    verifier = TokenVerifier(JWKSCache(dev.fetch_jwks), issuer=dev.issuer)
    with pytest.raises(InvalidTokenError, match="token expired"):
        await verifier.verify(dev.mint("user_dev", ttl=timedelta(minutes=-5)))


async def test_token_from_another_dev_data_dir_is_rejected(tmp_path: Path) -> None:
    ours = DevIssuer.load_or_create(tmp_path / "ours")
    theirs = DevIssuer.load_or_create(tmp_path / "theirs")
    verifier = TokenVerifier(JWKSCache(ours.fetch_jwks), issuer=ours.issuer)
    with pytest.raises(InvalidTokenError, match="unknown signing key"):
        await verifier.verify(theirs.mint("intruder"))
