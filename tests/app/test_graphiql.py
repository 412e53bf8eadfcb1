"""GraphiQL at GET /graphql: served from the package's own files, never from a CDN."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import httpx
import pytest

import app.graphiql
from app.graphiql import ASSET_FILES, ASSETS_URL, INSTALL_HINT, graphiql_page, installed_versions

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


# The IDE does not touch the database: SQLite alone keeps these fast.
pytestmark = pytest.mark.sqlite_only


def test_the_vendored_assets_are_in_the_package() -> None:
    # The README's first command (pip install, no Node) must give a working GraphiQL.
    versions = installed_versions()
    assert versions is not None, f"run `{INSTALL_HINT}`"
    assert set(versions) == {"graphiql", "react", "react-dom"}


async def test_the_page_loads_every_script_and_style_from_this_origin(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources, response.text
    assert all(source.startswith((ASSETS_URL + "/", "data:")) for source in sources), sources
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "connect-src 'self'" in policy
    # Deprecated arguments and input fields (sessionId) show in the docs.
    assert "inputValueDeprecation: true" in response.text


@pytest.mark.parametrize("name", ASSET_FILES)
async def test_each_asset_is_served(http: httpx.AsyncClient, name: str) -> None:
    response = await http.get(f"{ASSETS_URL}/{name}")
    assert response.status_code == 200
    assert len(response.content) > 1000


async def test_without_the_assets_the_page_says_how_to_install_them(
    http: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an installation whose vendored files are gone
    monkeypatch.setattr(app.graphiql, "ASSETS_DIR", tmp_path / "missing")
    # when a browser opens /graphql
    response = await http.get("/graphql", headers=BROWSER)
    # then it is told what to run, not shown a blank page
    assert response.status_code == 200
    assert "GraphiQL's files are not installed" in response.text
    assert escape(INSTALL_HINT) in response.text
    assert "<script" not in response.text


def test_a_partial_install_counts_as_missing(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"versions": {"graphiql": "3.8.3"}}')
    (tmp_path / "graphiql.min.js").write_text("/* only one file */")
    html, installed = graphiql_page(tmp_path)
    assert not installed
    assert escape(INSTALL_HINT) in html
