"""URL normalisation and same-site checks.

The registrable domain ("shop.example.co.uk" -> "example.co.uk") comes from the
Public Suffix List snapshot that ships inside tldextract. ``suffix_list_urls=()``
and ``cache_dir=None`` stop it from ever downloading a fresh list or touching
the disk, so the service behaves the same with no network.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import idna

from discovery.errors import InvalidURLError

if TYPE_CHECKING:
    import tldextract

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
# "mailto:x", "javascript:x" carry a scheme without "//"; "example.com:8080" does
# not (a port is digits), so only the former is read as a scheme.
_BARE_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?!\d)")
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# Lone surrogates too: no URL can carry them, and no database can store them.
_FORBIDDEN_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\\ud800-\udfff]")

# Characters a path or query may carry as they are (RFC 3986 `pchar`, less the
# apostrophe), and a "%" that starts an escape; everything else is written as
# UTF-8 %XX, so `"><img onerror=...>` in a path can never leave the URL.
_UNSAFE_IN_PATH = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&()*+,;=:@/%]")
_UNSAFE_IN_QUERY = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&()*+,;=:@/?%]")

_extractor: tldextract.TLDExtract | None = None
_extractor_lock = threading.Lock()


def build_extractor() -> tldextract.TLDExtract:
    """A TLDExtract that only ever uses the bundled snapshot."""
    # Imported on first use: with `requests` behind it, it is a tenth of what a
    # new worker imports before it can answer (see app/cli.py), and no request
    # needs it until a URL is normalised.
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _get_extractor() -> tldextract.TLDExtract:
    global _extractor
    if _extractor is None:
        with _extractor_lock:
            if _extractor is None:
                _extractor = build_extractor()
    return _extractor


@dataclass(frozen=True, slots=True)
class NormalisedURL:
    """A URL as `normalise_url` writes it, and the names of its host.

    `host` is the ASCII (IDNA) host name ("shop.example.co.uk"); `registrable_domain`
    is the part of it a registrant owns under the Public Suffix List ("example.co.uk"):
    the site, as `is_same_site` compares it.
    """

    url: str
    host: str
    registrable_domain: str

    @property
    def domain_label(self) -> str:
        """The registrable domain without its public suffix ("example")."""
        return self.registrable_domain.split(".", 1)[0]


def registrable_domain_of(host: str) -> str | None:
    """The registrable domain of an ASCII host, or None if it has none."""
    parts = _get_extractor()(host)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


# The same few hundred hosts come back in every provider answer, and the idna
# package's UTS 46 mapping is pure Python: remembering it saves milliseconds a call.
@lru_cache(maxsize=4096)
def _ascii_host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise InvalidURLError("The URL has no host name.")
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidURLError("The URL's host name is not a valid domain name.") from exc


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _percent_encode(text: str, unsafe: re.Pattern[str]) -> str:
    return unsafe.sub(lambda match: quote(match.group(), safe=""), text)


def _with_scheme(raw: str, *, require_scheme: bool) -> str:
    if _HAS_SCHEME.match(raw):
        return raw
    if require_scheme:
        raise InvalidURLError("The URL must start with http:// or https://.")
    bare = _BARE_SCHEME.match(raw)
    if bare and bare.group(1).lower() not in _DEFAULT_PORTS:
        raise InvalidURLError("Only http and https URLs are supported.")
    if raw.startswith("//"):
        return "https:" + raw
    return "https://" + raw


def normalise_url(raw: str, *, require_scheme: bool = False) -> NormalisedURL:
    """Normalise a site URL or raise InvalidURLError: the one rule for every web URL we keep.

    A missing scheme means https, unless `require_scheme` (for values that are
    meant to be absolute URLs already). The result has a lowercase scheme and
    IDNA host, no default port, no fragment, "/" for an empty path, and a
    percent-encoded path and query (existing escapes kept).
    """
    return _normalise(raw, require_scheme)


# A provider's answer holds a few dozen URLs, and the same competitors come back
# in answer after answer: each is worked out once (URLs that are refused are not
# kept). Bounded by entries, each at most MAX_URL_LENGTH characters of key.
@lru_cache(maxsize=1024)
def _normalise(raw: str, require_scheme: bool) -> NormalisedURL:
    text = raw.strip()
    if not text:
        raise InvalidURLError("The URL is empty.")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURLError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARS.search(text):
        raise InvalidURLError("The URL contains spaces, control characters or invalid Unicode.")

    with_scheme = _with_scheme(text, require_scheme=require_scheme)
    try:
        parts: SplitResult = urlsplit(with_scheme)
    except ValueError as exc:
        raise InvalidURLError("The URL could not be parsed.") from exc
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError("The URL's port is not a valid port number.") from exc

    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURLError("Only http and https URLs are supported.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidURLError("The URL must not contain a user name or password.")
    if not parts.hostname:
        raise InvalidURLError("The URL has no host name.")
    if parts.netloc.startswith("[") or _is_ip_literal(parts.hostname):
        raise InvalidURLError("Use the site's domain name, not an IP address.")

    host = _ascii_host(parts.hostname)
    if _is_ip_literal(host):
        raise InvalidURLError("Use the site's domain name, not an IP address.")
    registrable = registrable_domain_of(host)
    if registrable is None:
        raise InvalidURLError("The URL's host is not a public domain name.")

    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _percent_encode(parts.path or "/", _UNSAFE_IN_PATH)
    query = _percent_encode(parts.query, _UNSAFE_IN_QUERY)
    url = urlunsplit((scheme, netloc, path, query, ""))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    return NormalisedURL(url=url, host=host, registrable_domain=registrable)


def host_of(url_or_host: str) -> str | None:
    """The ASCII host of a URL or bare host name, or None if it has none."""
    text = url_or_host.strip()
    if not text:
        return None
    if "/" in text or ":" in text:
        try:
            hostname = urlsplit(text if _HAS_SCHEME.match(text) else "//" + text).hostname
        except ValueError:
            return None
        if not hostname:
            return None
        text = hostname
    try:
        return _ascii_host(text)
    except InvalidURLError:
        return None


def is_same_site(url_or_host: str, registrable_domain: str) -> bool:
    """True when the URL/host is the registrable domain or one of its subdomains."""
    host = host_of(url_or_host)
    target = registrable_domain.strip().rstrip(".").lower()
    if host is None or not target:
        return False
    return host == target or host.endswith("." + target)
