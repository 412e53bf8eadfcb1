"""Small, pure TF-IDF ranking for the offline catalog.

Tokens are lowercase runs of letters and digits with a short stop-word list
removed; there is no stemming, so "shop" and "shoppers" are different words.
Document weights are sublinear term frequency times smoothed IDF, vectors are
L2-normalised, and a document's score is its cosine with the query, in 0..1.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_TOKEN = re.compile(r"[a-z0-9]+")
# Written forms that mean the same thing and would otherwise never match.
_ALIASES = {"ecommerce": "commerce", "saas": "software", "fintech": "financial"}
_STOP_WORDS_TEXT = """a an and are as at be by for from has have in into is it its of on or our
    that the their them they this to was we with you your who which all also
    more most other than then these those can will over per via each any"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def tokenize(text: str) -> list[str]:
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        token = _ALIASES.get(token, token)
        if len(token) > 1 and token not in STOP_WORDS:
            tokens.append(token)
    return tokens


def _weights(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vector = {t: (1.0 + math.log(n)) * idf[t] for t, n in counts.items() if t in idf}
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else {}


class TfIdfIndex:
    """An index over a fixed list of documents, queried by cosine similarity."""

    def __init__(self, documents: Sequence[str]) -> None:
        counts = [Counter(tokenize(doc)) for doc in documents]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        total = len(documents)
        self._idf = {t: math.log((1 + total) / (1 + n)) + 1.0 for t, n in df.items()}
        self._vectors = [_weights(c, self._idf) for c in counts]

    def scores(self, query: str) -> list[float]:
        """Cosine similarity of each document with the query, in document order."""
        q = _weights(Counter(tokenize(query)), self._idf)
        if not q:
            return [0.0] * len(self._vectors)
        return [min(1.0, sum(w * doc.get(t, 0.0) for t, w in q.items())) for doc in self._vectors]
