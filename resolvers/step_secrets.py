"""Which values in a step's data are secrets, and what is shown of them.

A key names a secret when one of its words is *password*, *passwd*,
*passphrase*, *secret*, *token* (or a plural), or the pair *api key* /
*private key*: in any case and with any separator, so `applicationPassword`,
`api_key`, `ANTHROPIC-API-KEY`, `anthropicApiKey`, `OPENAI_APIKEY` and
`clientsecret` all do. Words are whole: `tokenizer`, `secretary` and
`passwordless` do not. A word after the secret word that says the value only
describes the secret turns it back into an ordinary key (`passwordPolicy`,
`tokenLimit`, `apiKeyId`, `tokenExpiresAt`, `tokenUrl`); see DESCRIPTIVE_WORDS.

Only non-empty strings are secrets: a number or boolean under such a name is
a setting (`maxTokens: 4096`, `hasPassword: true`) and stays as it is. Under a
secret name every string below it is a secret too, however nested (step 1's
`apiKeys` object, a `tokens` list).

A secret is kept only in the encrypted copy, in the shape of the data it came
from, and shown as `••••` plus its last four characters, or as `••••` alone
when it has eight characters or fewer, so a short secret is never shown half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

MASK = "••••"
SHORT_SECRET = 8

_SECRET_ENDINGS: Final = (
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "passphrases",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "apikeys",
    "privatekey",
    "privatekeys",
)
_KEY_WORDS: Final = frozenset({"key", "keys"})
_KEY_KINDS: Final = frozenset({"api", "private"})
DESCRIPTIVE_WORDS: Final = frozenset(
    {
        "policy",
        "policies",
        "hint",
        "length",
        "limit",
        "count",
        "type",
        "id",
        "ids",
        "name",
        "url",
        "uri",
        "endpoint",
        "expires",
        "expiry",
        "expiration",
        "ttl",
        "created",
        "updated",
    }
)
# "APIKey" -> API, Key; "anthropicApiKey" -> anthropic, Api, Key; digits apart.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def is_secret_name(name: str) -> bool:
    """True when a key called `name` holds a secret (see the module docstring)."""
    words = [word.lower() for word in _WORD.findall(name)]
    last_secret_word: int | None = None
    for index, word in enumerate(words):
        # A word ending in a secret word covers names run together: "openaiapikey".
        pair = word in _KEY_WORDS and index > 0 and words[index - 1] in _KEY_KINDS
        if pair or word.endswith(_SECRET_ENDINGS):
            last_secret_word = index
    if last_secret_word is None:
        return False
    return DESCRIPTIVE_WORDS.isdisjoint(words[last_secret_word + 1 :])


def mask_secret(value: str) -> str:
    """Show enough of a secret to recognise it, never enough to use or guess it."""
    return MASK if len(value) <= SHORT_SECRET else MASK + value[-4:]


class _NoSecret:
    """Marks a part of the data that holds no secret (None is a value data can hold)."""


_NO_SECRET: Final = _NoSecret()


def _split(value: Any, secret: bool) -> tuple[Any, Any]:
    if isinstance(value, Mapping):
        shown: dict[str, Any] = {}
        hidden: dict[str, Any] = {}
        for key, child in value.items():
            shown[key], sealed = _split(child, secret or is_secret_name(str(key)))
            if sealed is not _NO_SECRET:
                hidden[key] = sealed
        return shown, hidden or _NO_SECRET
    if isinstance(value, list):
        pairs = [_split(child, secret) for child in value]
        if all(sealed is _NO_SECRET for _, sealed in pairs):
            return [shown for shown, _ in pairs], _NO_SECRET
        # Same length as the original, null where an element holds no secret.
        return [shown for shown, _ in pairs], [
            None if sealed is _NO_SECRET else sealed for _, sealed in pairs
        ]
    if secret and isinstance(value, str) and value:
        return mask_secret(value), value
    return value, _NO_SECRET


def split_secrets(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(data with every secret masked, the secrets alone in the data's shape or None)."""
    shown, hidden = _split(data, secret=False)
    return shown, None if hidden is _NO_SECRET else hidden
