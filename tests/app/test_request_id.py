"""Every response carries a request id: the client's own, if harmless, or a new one."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from app.logging_config import RequestIdFilter, logging_config


async def test_a_harmless_client_request_id_is_echoed(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 200, "line\\nbreak"])
async def test_otherwise_a_fresh_id_is_made(http: httpx.AsyncClient, offered: str | None) -> None:
    headers = {} if offered is None else {"x-request-id": offered}
    first = await http.get("/healthz", headers=headers)
    second = await http.get("/healthz", headers=headers)
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_log_lines_are_json_objects_with_the_request_id() -> None:
    # given the service's logging configuration
    config = logging_config()["formatters"]["json"]
    formatter_class = config["()"]
    module, _, name = formatter_class.rpartition(".")
    formatter = getattr(__import__(module, fromlist=[name]), name)(
        config["fmt"], rename_fields=config["rename_fields"]
    )
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    RequestIdFilter().filter(record)
    # when a record is formatted / then it is one JSON object
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert "request_id" in line
