"""Turning messy social-profile values into https URLs or None.

Values reach us from scraped pages, LLM output and search results: ``""``,
``true``, ``1``, ``"@acme"``, ``"twitter.com/acme"``, ``"/company/acme"``. Only an
absolute URL on the network's own host with a profile path survives. A relative
path becomes None: we cannot know what it was relative to, and guessing could
point at a stranger's profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from discovery.errors import InvalidURLError
from discovery.models import SocialMediaAccounts
from discovery.urls import normalise_url

NETWORKS = ("facebook", "twitter", "instagram", "linkedin", "youtube", "tiktok")

NETWORK_HOSTS: Mapping[str, tuple[str, ...]] = {
    "facebook": ("facebook.com", "fb.com"),
    "twitter": ("twitter.com", "x.com"),
    "instagram": ("instagram.com",),
    "linkedin": ("linkedin.com",),
    "youtube": ("youtube.com",),
    "tiktok": ("tiktok.com",),
}

_KEY_ALIASES = {"x": "twitter"}

# Where a bare handle ("@acme") lives on each network.
_HANDLE_URL = {
    "facebook": "https://www.facebook.com/{}",
    "twitter": "https://x.com/{}",
    "instagram": "https://www.instagram.com/{}",
    "linkedin": "https://www.linkedin.com/company/{}",
    "youtube": "https://www.youtube.com/@{}",
    "tiktok": "https://www.tiktok.com/@{}",
}

_HANDLE = re.compile(r"^@?([A-Za-z0-9_][A-Za-z0-9_.-]{0,99})$")
_NOT_A_VALUE = {"", "true", "false", "null", "none", "nil", "n/a", "na", "undefined", "-"}
# Links that every page carries and that are not anyone's profile.
_NON_PROFILE_PREFIXES = ("/sharer", "/share", "/intent", "/dialog", "/home", "/login", "/hashtag")


def network_of_host(host: str) -> str | None:
    """The network whose host this is (``www.x.com`` -> "twitter")."""
    host = host.lower().rstrip(".")
    for network, hosts in NETWORK_HOSTS.items():
        if any(host == h or host.endswith("." + h) for h in hosts):
            return network
    return None


def clean_social_url(network: str, value: object) -> str | None:
    """An https profile URL on ``network`` from a messy value, else None."""
    if network not in NETWORK_HOSTS or not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _NOT_A_VALUE or text.isdigit():
        return None
    if text.startswith(("/", ".", "?", "#")) and not text.startswith("//"):
        return None

    handle = _HANDLE.match(text)
    if handle and "." not in text.lstrip("@") and any(c.isalpha() for c in text):
        return _HANDLE_URL[network].format(handle.group(1))

    try:
        site = normalise_url(text)
    except InvalidURLError:
        return None
    if network_of_host(site.host) != network:
        return None
    parts = urlsplit(site.url)
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    if not path or path.lower().startswith(_NON_PROFILE_PREFIXES):
        return None
    return f"https://{site.host}{path}"


def clean_social_accounts(raw: Mapping[str, Any]) -> SocialMediaAccounts:
    """Map ``{network: messy value}`` to SocialMediaAccounts (URL or None each)."""
    found: dict[str, str | None] = dict.fromkeys(NETWORKS)
    if not isinstance(raw, Mapping):
        return SocialMediaAccounts()
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        network = _KEY_ALIASES.get(key.strip().lower(), key.strip().lower())
        if network in found and found[network] is None:
            found[network] = clean_social_url(network, value)
    return SocialMediaAccounts(**found)
