"""The service answers "may we delete `sessionId` today?", across restarts."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx

from auth import DevIssuer
from tests.reliability.metrics_text import sample
from tests.support.server_process import clean_environment, run_cli, service

LEGACY = 'query Legacy { onboardingProgress(sessionId: "s-1") { currentStep } }'
COORDINATE = "Query.onboardingProgress(sessionId:)"


async def _legacy(base_url: str, token: str, times: int, client: str | None) -> None:
    headers = {"authorization": f"Bearer {token}"}
    if client is not None:
        headers["apollographql-client-name"] = client
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for _ in range(times):
            response = await http.post("/graphql", json={"query": LEGACY}, headers=headers)
            assert response.status_code == 200, response.text
            assert response.headers["deprecation"]


def _stop(running_process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and the graceful exit uvicorn ends by re-raising the signal."""
    running_process.terminate()
    assert running_process.wait(timeout=60) in (0, -signal.SIGTERM)


def _line(report: str, start: str) -> str:
    [line] = [line for line in report.splitlines() if line.strip().startswith(start)]
    return " ".join(line.split())


async def test_the_report_counts_every_run_of_the_service(
    tmp_path: Path, database_url: str
) -> None:
    environment = clean_environment(
        {
            "ONBOARDING_DATA_DIR": str(tmp_path / "data"),
            "ONBOARDING_DATABASE_URL": database_url,
        }
    )
    token = DevIssuer.load_or_create(tmp_path / "data").mint("legacy-user")
    # given a database no deprecated usage was ever written to
    report = run_cli("deprecations", cwd=tmp_path, env=environment)
    # then the report says none was used, and names what is deprecated
    assert report.startswith("No deprecated field, argument or input field was used since ")
    assert _line(report, COORDINATE) == f"{COORDINATE} not used"

    # when a served process answers an old client 3 times and an unnamed one twice, then stops
    with service(tmp_path, environment) as running:
        await _legacy(running.base_url, token, 3, "web-legacy")
        await _legacy(running.base_url, token, 2, None)
        _stop(running.process)
    # and after a restart the old client asks once more
    with service(tmp_path, environment) as running:
        await _legacy(running.base_url, token, 1, "web-legacy")
        async with httpx.AsyncClient(base_url=running.base_url, timeout=60) as http:
            metrics = (await http.get("/metrics")).text
        _stop(running.process)
    # (the metrics count this run only)
    usage = "onboarding_deprecated_usage_total"
    assert sample(metrics, usage, coordinate=COORDINATE, client="web-legacy") == 1

    # then the report counts both runs, per client, with the last use
    report = run_cli("deprecations", "--since", "30d", cwd=tmp_path, env=environment)
    assert report.startswith("Deprecated usage since ")
    moment = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    total = rf"{re.escape(COORDINATE)} 6 uses, last {moment}"
    assert re.fullmatch(total, _line(report, COORDINATE))
    assert re.fullmatch(rf"web-legacy 4 last {moment}", _line(report, "web-legacy"))
    assert re.fullmatch(rf"unknown 2 last {moment}", _line(report, "unknown"))
    # and what nobody used is listed as such
    assert _line(report, "DiscoverCompetitorsInput.sessionId") == (
        "DiscoverCompetitorsInput.sessionId not used"
    )
