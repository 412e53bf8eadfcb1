"""A fake Exa with a fixed latency, for measuring the service's own overhead above it.

Speaks the same JSON as tests/support/fake_exa.py's happy path, from an
asyncio server so sixteen concurrent calls each wait the latency, not a queue.
Run: `uvicorn bench.fake_provider:create_app --factory` with BENCH_PROVIDER_LATENCY_MS.

Each answer is encoded once. A discovery's two calls arrive together and this one
process answers them in turn, so whatever it spends on the first answer the
second waits for; the real provider answers them on servers of its own.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_JSON = "application/json"
_SOCIAL = orjson.dumps(
    {
        "requestId": "bench",
        "results": [{"id": "1", "url": "https://twitter.com/acme", "title": "Acme (@acme)"}],
    }
)


def _result(rank: int) -> dict[str, Any]:
    # Distinct registrable domains: the provider keeps one competitor per domain.
    url = f"https://competitor-{rank}.com/"
    return {
        "id": url,
        "url": url,
        "title": f"Competitor {rank}",
        "score": round(0.99 - rank * 0.005, 4),
        "publishedDate": "2026-01-01T00:00:00.000Z",
        "author": None,
        "text": "A company that competes with you.",
        "highlights": ["It sells what you sell."],
        "summary": "A competitor.",
        "favicon": f"{url}favicon.ico",
        "image": None,
    }


@functools.cache
def _similar(wanted: int) -> bytes:
    return orjson.dumps({"requestId": "bench", "results": [_result(r) for r in range(wanted)]})


def create_app() -> Starlette:
    latency = float(os.environ.get("BENCH_PROVIDER_LATENCY_MS", "50")) / 1000

    async def find_similar(request: Request) -> Response:
        body = orjson.loads(await request.body())
        await asyncio.sleep(latency)
        return Response(_similar(int(body.get("numResults", 10))), media_type=_JSON)

    async def search(request: Request) -> Response:
        await request.body()
        await asyncio.sleep(latency)
        return Response(_SOCIAL, media_type=_JSON)

    async def healthz(_request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/findSimilar", find_similar, methods=["POST"]),
            Route("/search", search, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )
