"""URL normalisation, same-site checks and the offline Public Suffix List."""

from __future__ import annotations

import socket
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from discovery import InvalidURLError, is_same_site, normalise_url
from discovery.urls import build_extractor


@pytest.mark.parametrize(
    ("raw", "url", "registrable"),
    [
        ("example.com", "https://example.com/", "example.com"),
        ("Shop.Example.CO.UK", "https://shop.example.co.uk/", "example.co.uk"),
        ("HTTP://Example.com:80/a?b=1#frag", "http://example.com/a?b=1", "example.com"),
        ("https://example.com:443", "https://example.com/", "example.com"),
        ("example.com:8443/x", "https://example.com:8443/x", "example.com"),
        ("https://bücher.de/", "https://xn--bcher-kva.de/", "xn--bcher-kva.de"),
        ("  https://www.example.com./  ", "https://www.example.com/", "example.com"),
        ("//example.org/path/", "https://example.org/path/", "example.org"),
    ],
)
def test_normalises_urls(raw: str, url: str, registrable: str) -> None:
    # given a user-typed URL, when normalised, then it is canonical, and its host
    # is the canonical URL's (no port, no trailing dot, lower case, IDNA)
    result = normalise_url(raw)
    host = urlsplit(url).hostname
    assert (result.url, result.host, result.registrable_domain) == (url, host, registrable)


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        ("ftp://example.com", "http and https"),
        ("mailto:someone@example.com", "http and https"),
        ("javascript:alert(1)", "http and https"),
        ("localhost", "public domain"),
        ("http://localhost:8000", "public domain"),
        ("foo", "public domain"),
        ("http://127.0.0.1/", "IP address"),
        ("http://[::1]/", "IP address"),
        ("https://user:pass@example.com", "user name or password"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
        ("https://", "no host"),
        ("", "empty"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com:99999", "port"),
    ],
)
def test_rejects_unusable_urls(raw: str, message_part: str) -> None:
    # given an unusable URL, when normalised, then a human message says why
    with pytest.raises(InvalidURLError, match=message_part):
        normalise_url(raw)


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("example.co.uk", True),
        ("shop.example.co.uk", True),
        ("https://a.b.example.co.uk/path", True),
        ("HTTPS://SHOP.EXAMPLE.CO.UK", True),
        ("notexample.co.uk", False),
        ("example.co.uk.evil.com", False),
        ("other.co.uk", False),
        ("", False),
    ],
)
def test_same_site_means_domain_and_subdomains(candidate: str, expected: bool) -> None:
    # given the user's registrable domain, then only it and its subdomains match
    assert is_same_site(candidate, "example.co.uk") is expected


def test_public_suffix_list_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # given that every socket connection fails
    def refuse(*_args: object, **_kwargs: object) -> NoReturn:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # when a fresh extractor resolves a multi-label suffix
    parts = build_extractor()("shop.example.co.uk")
    # then the bundled snapshot answered
    assert (parts.domain, parts.suffix) == ("example", "co.uk")


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        (
            'https://x.com/shop/"><img/onerror=alert(1)>',
            "https://x.com/shop/%22%3E%3Cimg/onerror=alert(1)%3E",
        ),
        ("https://x.com/ü/[a]{b}|^`", "https://x.com/%C3%BC/%5Ba%5D%7Bb%7D%7C%5E%60"),
        ("https://x.com/a%20b/100%", "https://x.com/a%20b/100%25"),
        ('https://x.com/p?q=a+b&r="<\'>"', "https://x.com/p?q=a+b&r=%22%3C%27%3E%22"),
        ("https://x.com/a:b@c;d=e,f!g$h&i(j)*k+l~m", "https://x.com/a:b@c;d=e,f!g$h&i(j)*k+l~m"),
    ],
)
def test_paths_and_queries_are_percent_encoded_once(raw: str, url: str) -> None:
    # given a URL with characters a URL cannot carry as they are, when normalised
    normalised = normalise_url(raw)
    # then they are %XX-encoded, escapes already there are kept, and doing it again changes nothing
    assert normalised.url == url
    assert normalise_url(normalised.url).url == url
