"""schema/schema.graphql is the public contract: it must be what the code serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schema import schema_sdl

COMMITTED = Path(__file__).parents[2] / "schema" / "schema.graphql"
REGENERATE = "onboarding-api export-schema schema/schema.graphql"


def test_the_committed_sdl_equals_what_the_code_exports() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_sdl(), (
        f"schema/schema.graphql is out of date; if the change is deliberate, run `{REGENERATE}`"
    )


def test_the_cli_exports_the_same_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    subprocess.run(
        [sys.executable, "-m", "app.cli", "export-schema", str(target)], check=True, timeout=60
    )
    assert target.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")
