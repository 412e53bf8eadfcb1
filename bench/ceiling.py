"""The stack's ceiling: a bare FastAPI route that returns a constant."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/constant")
    async def constant() -> dict[str, str]:
        return {"ok": "constant"}

    return app
