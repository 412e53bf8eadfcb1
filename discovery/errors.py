"""Errors raised by the discovery package.

Hierarchy::

    ValueError
    ├── InvalidURLError            the user's URL cannot be used (urls.py)
    └── CatalogFormatError         a catalog line is malformed (catalog.py)

    Exception
    └── ProviderError              a provider could not answer; ``code`` is the
        │                          user-error code, ``message`` is safe to show
        ├── ProviderUnavailableError    "PROVIDER_UNAVAILABLE": timeouts, 5xx,
        │                               429 after retries, bad answers
        └── ProviderMisconfiguredError  "PROVIDER_MISCONFIGURED": 401/403, no key

``message`` is always one of our own fixed sentences: never a traceback, an
upstream body, a header or a URL, so nothing secret can leak through it.
"""

from __future__ import annotations


class InvalidURLError(ValueError):
    """The URL is not a public http(s) site we can research."""


class CatalogFormatError(ValueError):
    """A catalog line could not be parsed; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class ProviderError(Exception):
    """A provider failure that maps to a user error."""

    code: str = "PROVIDER_UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnavailableError(ProviderError):
    code = "PROVIDER_UNAVAILABLE"


class ProviderMisconfiguredError(ProviderError):
    code = "PROVIDER_MISCONFIGURED"
