"""The schema changelog, served where the `Deprecation` response's `Link` points by default.

`app/static/SCHEMA_CHANGELOG.md` is a link to the repository's changelog, so
the one file is both what maintainers edit and what a wheel installs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

CHANGELOG_PATH = "/SCHEMA_CHANGELOG.md"
_CHANGELOG = Path(__file__).with_name("static") / "SCHEMA_CHANGELOG.md"

router = APIRouter()


@router.get(CHANGELOG_PATH, include_in_schema=False)
async def schema_changelog() -> FileResponse:
    """What changed in the schema, what is deprecated and when it goes (Markdown)."""
    return FileResponse(_CHANGELOG, media_type="text/markdown; charset=utf-8")
