"""A fake Exa with a fixed latency, for measuring the service's own overhead above it.

Speaks the same JSON as tests/support/fake_exa.py's happy path, from an
asyncio server so sixteen concurrent calls each wait the latency, not a queue.
Run: `uvicorn bench.fake_provider:create_app --factory` with BENCH_PROVIDER_LATENCY_MS.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fastapi import FastAPI, Request


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


def create_app() -> FastAPI:
    latency = float(os.environ.get("BENCH_PROVIDER_LATENCY_MS", "50")) / 1000
    app = FastAPI()

    @app.post("/findSimilar")
    async def find_similar(request: Request) -> dict[str, Any]:
        body = await request.json()
        await asyncio.sleep(latency)
        wanted = int(body.get("numResults", 10))
        return {"requestId": "bench", "results": [_result(rank) for rank in range(wanted)]}

    @app.post("/search")
    async def search(request: Request) -> dict[str, Any]:
        await request.json()
        await asyncio.sleep(latency)
        return {
            "requestId": "bench",
            "results": [{"id": "1", "url": "https://twitter.com/acme", "title": "Acme (@acme)"}],
        }

    return app
