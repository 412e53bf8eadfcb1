"""One builder for the HTTP edge's error responses: a GraphQL error body, in the accepted type.

Every refusal the HTTP edge makes itself (400, 401, 404, 405, 408, 413, 415, 500, 503)
goes through `graphql_error_response`, whether a route, an exception handler or a
pure ASGI middleware sends it, so a client parses every error the same way. (A
refused WebSocket upgrade is a bare 403: see `app/graphql.py`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final, Literal

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"
MediaType = Literal["application/graphql-response+json", "application/json"]
# How long a client is asked to wait before retrying what a passing outage refused.
RETRY_AFTER_SECONDS = "5"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> MediaType:
    """`application/graphql-response+json` only when the client names it and prefers it.

    `*/*`, a missing Accept and anything we cannot serve mean `application/json`:
    legacy clients predate the new type and must not see its status codes.
    """
    if not accept:
        return APPLICATION_JSON
    qualities: dict[str, float] = {}
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        qualities.setdefault(media_type.strip().lower(), _quality(parameters))
    graphql_response = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    if graphql_response > 0 and graphql_response >= qualities.get(APPLICATION_JSON, 0.0):
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def content_type_header(media_type: MediaType) -> str:
    """The Content-Type for `media_type`."""
    # The legacy header stays byte-for-byte what it was; the new type names its charset.
    return media_type if media_type == APPLICATION_JSON else f"{media_type}; charset=utf-8"


def graphql_error_response(
    accept: str | None,
    message: str,
    code: str,
    *,
    status_code: int,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """A GraphQL response with one error and no `data`, in the media type `accept` asks for.

    `request_id`, when given, goes in the error's extensions too (as in masked
    execution errors), for a failure support will want to find in the log.
    """
    extensions = {"code": code}
    if request_id is not None:
        extensions["requestId"] = request_id
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=content_type_header(response_media_type(accept)),
    )


def code_for_status(status_code: int) -> str:
    """The error code for a refusal that has no more specific one: `NOT_FOUND`, `BAD_REQUEST`…"""
    try:
        return HTTPStatus(status_code).name
    except ValueError:
        return "BAD_REQUEST"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def http_error_response(request: Request, error: Exception) -> Response:
    """The handler for Starlette's HTTPException: unknown routes (404), wrong methods (405)."""
    assert isinstance(error, HTTPException)
    if error.status_code in {204, 304}:  # no body allowed
        return Response(status_code=error.status_code, headers=error.headers)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return graphql_error_response(
        request.headers.get("accept"),
        error.detail,
        code_for_status(error.status_code),
        status_code=error.status_code,
        headers=headers,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route at the request's path takes.

    Starlette's own 405 names the methods of the first route that matched the
    path only. (`/graphql` answers its own 405s: `app.graphql_http`.)
    """
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
