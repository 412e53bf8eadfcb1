"""`discoverCompetitors` with the offline catalog: bundled at startup, extended by the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.settings import Settings
from db.catalog_repository import all_catalog_entries
from db.engine import create_engine, read_transaction
from tests.support.app import serving
from tests.support.discovery import DISCOVER, discovered
from tests.support.graphql import GraphQLClient
from tests.support.server_process import CLI, clean_environment, post_with_dev_token, serve

SHOP = {
    "userUrl": "www.my-little-shop.com",
    "industryContext": "e-commerce",
    "numResults": 10,
    "websiteAnalysisData": {
        "target_audience": "online shoppers looking for handmade goods",
        "content_type": "product pages",
        "recommended_settings": {"industry_context": "online retail marketplace"},
    },
}
WIDGETS = {
    "url": "https://www.tinywidgets.co.uk",
    "name": "Tiny Widgets",
    "description": "Handmade clockwork widgets for collectors of clockwork automata.",
    "industry": "Clockwork automata",
    "social": {"twitter": "https://twitter.com/tinywidgets", "youtube": None},
}
WIDGET_REQUEST = {"userUrl": "https://clockwork-friends.com", "industryContext": "clockwork"}


async def test_an_ecommerce_request_ranks_ecommerce_companies_first(
    graphql: GraphQLClient,
) -> None:
    # given the bundled catalog, loaded at startup
    # when an e-commerce shop asks for ten competitors
    found = await discovered(graphql, **SHOP)
    # then they come from the catalog, e-commerce companies first, best first
    assert found["provider"] == "catalog"
    assert found["userUrl"] == "https://www.my-little-shop.com/"
    assert found["domain"] == "my-little-shop.com"
    competitors = found["competitors"]
    assert len(competitors) == 10
    assert all(c["highlights"] == ["E-commerce"] for c in competitors[:5])
    scores = [c["relevanceScore"] for c in competitors]
    assert scores == sorted(scores, reverse=True)
    assert found["researchSummary"]["totalCompetitors"] == 10
    assert found["researchSummary"]["keyFindings"]


def import_catalog(
    path: Path, database_url: str, *, cli: Sequence[str] = (CLI,)
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, "catalog", "import", str(path)],
        env=clean_environment({"ONBOARDING_DATABASE_URL": database_url}),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def discover_once(
    settings: Settings, token_for: Callable[[str], str], fields: dict[str, Any]
) -> dict[str, Any]:
    async with serving(settings) as http:
        return await discovered(GraphQLClient(http, token_for, "user-a"), **fields)


def test_catalog_import_adds_entries_the_api_then_ranks(
    database_url: str, settings: Settings, token_for: Callable[[str], str], tmp_path: Path
) -> None:
    # given a migrated database and a JSON Lines file with a company not in the sample
    catalog = tmp_path / "extra.jsonl"
    catalog.write_text(json.dumps(WIDGETS) + "\n\n", encoding="utf-8")
    # when the CLI imports it, twice (an import replaces entries of the same domain)
    for _ in range(2):
        done = import_catalog(catalog, database_url)
        assert done.returncode == 0, done.stderr
        assert "imported 1 catalog entries" in done.stderr
    # then a clockwork business finds it first through the API
    found = asyncio.run(discover_once(settings, token_for, WIDGET_REQUEST))
    assert found["competitors"][0]["domain"] == "tinywidgets.co.uk"
    assert found["competitors"][0]["title"] == "Tiny Widgets"


async def catalog_domains(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with read_transaction(engine) as connection:
            return [entry.domain for entry in await all_catalog_entries(connection)]
    finally:
        await engine.dispose()


def test_python_m_app_cli_imports_the_catalog(database_url: str, tmp_path: Path) -> None:
    # given a JSON Lines file with a company not in the sample
    catalog = tmp_path / "extra.jsonl"
    catalog.write_text(json.dumps(WIDGETS) + "\n", encoding="utf-8")
    # when the module, not the console script, runs the import
    done = import_catalog(catalog, database_url, cli=(sys.executable, "-m", "app.cli"))
    # then the `catalog` group was there to run it, and the entry arrived
    assert done.returncode == 0, done.stderr
    assert "tinywidgets.co.uk" in asyncio.run(catalog_domains(database_url))


def test_catalog_import_names_the_bad_line_and_imports_nothing(
    database_url: str, settings: Settings, token_for: Callable[[str], str], tmp_path: Path
) -> None:
    # given a file whose third line has no name
    broken = {**WIDGETS, "url": "https://broken.example.org", "name": ""}
    catalog = tmp_path / "broken.jsonl"
    catalog.write_text(
        "\n".join([json.dumps(WIDGETS), "", json.dumps(broken)]) + "\n", encoding="utf-8"
    )
    # when it is imported
    done = import_catalog(catalog, database_url)
    # then the CLI fails, naming the line, without a traceback
    assert done.returncode != 0
    assert "line 3" in done.stderr
    assert '"name"' in done.stderr
    assert "Traceback" not in done.stderr
    # and not even the good line was imported
    found = asyncio.run(discover_once(settings, token_for, WIDGET_REQUEST))
    assert "tinywidgets.co.uk" not in [c["domain"] for c in found["competitors"]]


def test_catalog_import_of_invalid_json_says_so(database_url: str, tmp_path: Path) -> None:
    catalog = tmp_path / "bad.jsonl"
    catalog.write_text('{"url": "https://a.example.org",\n', encoding="utf-8")
    done = import_catalog(catalog, database_url)
    assert done.returncode != 0
    assert "line 1: not valid JSON" in done.stderr


def test_the_readme_service_answers_from_the_catalog_with_no_key(tmp_path: Path) -> None:
    # given the service started as the README's first command does, with no Exa key
    environment = clean_environment()
    with serve(tmp_path, environment) as base_url:
        # when a shop asks for its competitors
        response = post_with_dev_token(
            base_url,
            {"query": DISCOVER, "variables": {"input": SHOP}},
            minted_in=tmp_path,
            env=environment,
            timeout=30,
        )
    # then the bundled catalog answers with ranked e-commerce competitors
    payload = response.json()["data"]["discoverCompetitors"]
    assert payload["userErrors"] == []
    assert payload["discovery"]["provider"] == "catalog"
    assert payload["discovery"]["competitors"][0]["highlights"] == ["E-commerce"]
