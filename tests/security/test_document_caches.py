"""Large distinct documents cannot grow what is kept per document."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.runtime import Runtime
from schema import DocumentCaches
from schema.extensions.document_cache import DocumentCache, retained_bytes
from schema.extensions.limit_tokens import TOKEN_COUNTS
from tests.support.app import settings_with

CACHE_BYTES = 2 * 1024 * 1024
DOCUMENTS = 40


# About HTTP, tokens or work per document: the database engine makes no difference.
pytestmark = pytest.mark.sqlite_only


settings = settings_with(document_cache_bytes=CACHE_BYTES)


def _document(characters: int) -> str:
    """A valid query whose deprecated string argument makes it `characters` long (one token)."""
    filler = secrets.token_hex(characters // 2)[:characters]
    return f'query Big {{ onboardingProgress(sessionId: "{filler}") {{ currentStep }} }}'


def _caches(app: FastAPI) -> dict[str, DocumentCache[Any]]:
    runtime: Runtime = app.state.runtime
    caches: DocumentCaches = runtime.document_caches
    return {
        "parsed": caches.parsed,
        "validated": caches.validated,
        "deprecated_usage": caches.deprecated_usage,
        "token counts": TOKEN_COUNTS,
    }


async def _post(http: httpx.AsyncClient, query: str) -> None:
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    # (anonymous: the document is parsed, validated and executed to UNAUTHENTICATED)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_many_large_distinct_documents_stay_under_each_caches_byte_bound(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    # given the service with 2 MiB per-document caches
    caches = _caches(app)
    # when 40 distinct anonymous documents of 100 KB each arrive (4 MB of text)
    for _ in range(DOCUMENTS):
        await _post(http, _document(100_000))
        # then after every one, no cache holds more than its bound
        for name, cache in caches.items():
            assert cache.bytes_held <= cache.max_bytes, name
    # and the parsed documents were kept as far as the bound allows, no further
    parsed = caches["parsed"]
    assert 0 < len(parsed) < DOCUMENTS
    assert parsed.bytes_held > CACHE_BYTES // 2


async def test_a_document_is_charged_what_it_holds(app: FastAPI, http: httpx.AsyncClient) -> None:
    parsed = _caches(app)["parsed"]
    document = _document(100_000)
    # when one 100 KB document is parsed and kept
    await _post(http, document)
    # then its entry is charged at least its text, once in the source and once as a value
    assert len(parsed) == 1
    assert parsed.bytes_held >= 2 * 100_000
    # and sending it again keeps one entry, charged the same
    held = parsed.bytes_held
    await _post(http, document)
    assert (len(parsed), parsed.bytes_held) == (1, held)


async def test_a_document_bigger_than_an_eighth_of_the_cache_is_not_kept(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    caches = _caches(app)
    # given a cache holding a client's document
    await _post(http, _document(1_000))
    parsed = caches["parsed"]
    kept = (len(parsed), parsed.bytes_held)
    # when a 900 KB document arrives (a 1 MB body holds it)
    await _post(http, _document(900_000))
    # then it is answered but not kept, and the client's document stays
    assert (len(parsed), parsed.bytes_held) == kept
    for name, cache in caches.items():
        assert cache.bytes_held <= cache.max_bytes, name


def test_retained_bytes_counts_shared_text_once_and_stops_at_the_bound() -> None:
    text = "x" * 100_000
    # the same string twice in one value costs once
    assert 100_000 <= retained_bytes([text, text]) < 2 * 100_000
    # and counting ends soon after passing the bound
    assert retained_bytes([text, "y" * 100_000, "z" * 100_000], stop_above=50_000) < 250_000
