"""GraphiQL at GET /graphql, from assets vendored into the package: no CDN, no Node at run time.

`clients/scripts/vendor-graphiql.ts` copies GraphiQL, React and ReactDOM (the
versions pinned in `clients/package.json`) into `app/static/graphiql/` with a
`manifest.json`; the files are committed, so `pip install` alone gives a
working IDE. Without them the page says how to put them back instead of
rendering blank. The page's Content-Security-Policy allows scripts from this
origin only, so the browser itself refuses anything a CDN would serve.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_URL = "/graphiql/assets"
MANIFEST = "manifest.json"
ASSET_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)
INSTALL_HINT = "cd clients && npm ci && npm run vendor-graphiql"

# Runs once the UMD bundles have defined React, ReactDOM and GraphiQL.
# `inputValueDeprecation` makes GraphiQL ask for deprecated arguments and input
# fields in its introspection query, so `sessionId` shows (as deprecated) in
# the docs. No default header: a placeholder token would be refused (401) and
# break the schema fetch. Headers are not persisted: they hold bearer tokens.
_BOOT_SCRIPT = """
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(
  React.createElement(GraphiQL, {
    fetcher: fetcher,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
    defaultQuery:
      "# Get a token with `onboarding-api dev-token --sub me` and set the header\\n" +
      '# {"Authorization": "Bearer <token>"} below, then run:\\n' +
      "{\\n  viewer {\\n    id\\n    onboarding { currentStep completionPercentage }\\n  }\\n}\\n",
  }),
);
"""


@cache
def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def content_security_policy() -> str:
    """Same-origin scripts plus the one inline boot script, by hash; requests to us only."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {_script_hash(_BOOT_SCRIPT)}",
            # GraphiQL and CodeMirror set element styles at run time.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def installed_versions(assets_dir: Path | None = None) -> dict[str, str] | None:
    """The vendored packages and their versions, or None when any asset is missing."""
    assets_dir = assets_dir or ASSETS_DIR
    manifest = assets_dir / MANIFEST
    if not manifest.is_file() or not all((assets_dir / name).is_file() for name in ASSET_FILES):
        return None
    versions: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))["versions"]
    return versions


def graphiql_page(assets_dir: Path | None = None) -> tuple[str, bool]:
    """The page's HTML, and whether the assets it needs are installed."""
    assets_dir = assets_dir or ASSETS_DIR
    versions = installed_versions(assets_dir)
    if versions is None:
        return _MISSING_PAGE.format(hint=escape(INSTALL_HINT)), False
    # The version in the URL makes a browser fetch new files after an upgrade.
    tag = escape(versions.get("graphiql", ""))

    def url(name: str) -> str:
        return f"{ASSETS_URL}/{name}?v={tag}"

    return (
        _PAGE.format(
            css=url("graphiql.min.css"),
            react=url("react.production.min.js"),
            react_dom=url("react-dom.production.min.js"),
            graphiql=url("graphiql.min.js"),
            boot=_BOOT_SCRIPT,
        ),
        True,
    )


def graphiql_response(assets_dir: Path | None = None) -> HTMLResponse:
    html, installed = graphiql_page(assets_dir)
    headers = {"Content-Security-Policy": content_security_policy()} if installed else {}
    # Never cached: the page is tiny and must follow what is installed.
    headers["Cache-Control"] = "no-store"
    return HTMLResponse(html, headers=headers)


def mount_graphiql_assets(app: FastAPI, assets_dir: Path | None = None) -> None:
    """Serve the vendored files; `check_dir=False` so a missing folder is a 404, not a crash."""
    directory = assets_dir or ASSETS_DIR
    app.mount(ASSETS_URL, StaticFiles(directory=directory, check_dir=False), name="graphiql")


_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Onboarding API · GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{css}">
    <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="{react}"></script>
    <script src="{react_dom}"></script>
    <script src="{graphiql}"></script>
    <script>{boot}</script>
  </body>
</html>
"""

_MISSING_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Onboarding API · GraphiQL is not installed</title>
  </head>
  <body style="font-family: sans-serif; max-width: 44rem; margin: 3rem auto">
    <h1>GraphiQL's files are not installed</h1>
    <p>The GraphQL endpoint works; only the in-browser IDE is missing. This
    service serves GraphiQL from its own files, never from a CDN, and they are
    not in the package's <code>app/static/graphiql/</code>. From a checkout of
    the repository, run:</p>
    <pre>{hint}</pre>
    <p>then reload this page. Any GraphQL client can use
    <code>POST /graphql</code> meanwhile.</p>
  </body>
</html>
"""

__all__ = [
    "ASSETS_DIR",
    "ASSETS_URL",
    "content_security_policy",
    "graphiql_page",
    "graphiql_response",
    "installed_versions",
    "mount_graphiql_assets",
]
