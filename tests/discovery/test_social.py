"""Messy social values become https URLs on the right network, or None."""

from __future__ import annotations

import pytest

from discovery import SocialMediaAccounts, clean_social_accounts


@pytest.mark.parametrize(
    ("network", "value", "expected"),
    [
        ("facebook", "", None),
        ("facebook", True, None),
        ("facebook", 1, None),
        ("facebook", "1", None),
        ("facebook", "true", None),
        ("facebook", None, None),
        ("linkedin", "/company/acme", None),
        ("linkedin", {"url": "x"}, None),
        ("twitter", "@acme", "https://x.com/acme"),
        ("twitter", "twitter.com/acme", "https://twitter.com/acme"),
        ("twitter", "http://x.com/acme/", "https://x.com/acme"),
        ("twitter", "https://facebook.com/acme", None),
        ("instagram", "acme_shop", "https://www.instagram.com/acme_shop"),
        (
            "linkedin",
            "https://www.linkedin.com/company/acme?trk=1",
            "https://www.linkedin.com/company/acme",
        ),
        ("youtube", "@acme", "https://www.youtube.com/@acme"),
        ("tiktok", "tiktok.com/@acme", "https://tiktok.com/@acme"),
        ("facebook", "https://www.facebook.com/", None),
        ("facebook", "https://www.facebook.com/sharer/sharer.php?u=1", None),
        ("facebook", "javascript:alert(1)", None),
        ("facebook", "https://evil.com/facebook.com/acme", None),
    ],
)
def test_cleans_one_value(network: str, value: object, expected: str | None) -> None:
    # given a messy value for a network, when cleaned, then a URL or None comes out
    assert getattr(clean_social_accounts({network: value}), network) == expected


def test_x_key_is_twitter_and_unknown_keys_are_ignored() -> None:
    # given a mapping keyed "x" plus a network we do not track
    accounts = clean_social_accounts({"x": "@acme", "myspace": "https://myspace.com/acme"})
    # then twitter is filled and nothing else
    assert accounts == SocialMediaAccounts(twitter="https://x.com/acme")
