"""The /graphql endpoint: the context getter and the errors raised before execution."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter

from app.request_id import current_request_id
from app.runtime import Runtime
from auth import InvalidTokenError, JWKSUnavailableError, authenticate
from schema import GraphQLContext, create_schema
from schema.context import UNAUTHENTICATED

CLIENT_NAME_HEADERS = ("apollographql-client-name", "graphql-client-name")
_CLIENT_NAME = re.compile(r"[A-Za-z0-9._\-/ @]{1,64}")


def client_name(request: Request) -> str:
    """The client's self-declared name, for usage metrics; `unknown` if absent or odd."""
    for header in CLIENT_NAME_HEADERS:
        value = request.headers.get(header)
        if value is not None and _CLIENT_NAME.fullmatch(value.strip()):
            return value.strip()
    return "unknown"


async def get_context(request: Request) -> GraphQLContext:
    """Verify the bearer token, if any, and build the context every resolver reads."""
    runtime: Runtime = request.app.state.runtime
    viewer = await authenticate(request.headers.get("authorization"), runtime.verifier)
    return GraphQLContext(
        viewer=viewer,
        services=runtime.services,
        client_name=client_name(request),
        request_id=current_request_id(),
    )


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def _invalid_token(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InvalidTokenError)
    # An invalid token is never treated as anonymous: the whole request is refused.
    return JSONResponse(
        _error_body(f"Invalid bearer token: {error.reason}.", UNAUTHENTICATED),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _keys_unavailable(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(
        _error_body(
            "The identity provider's signing keys cannot be fetched; try again shortly.",
            "SERVICE_UNAVAILABLE",
        ),
        status_code=503,
        headers={"Retry-After": "5"},
    )


def mount_graphql(app: FastAPI, runtime: Runtime) -> None:
    settings = runtime.settings
    schema = create_schema(
        record_deprecated_usage=runtime.metrics.record_deprecated_usage,
        introspection=settings.introspection,
    )
    router: GraphQLRouter[GraphQLContext, None] = GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
    )
    app.include_router(router, prefix="/graphql")
    app.add_exception_handler(InvalidTokenError, _invalid_token)
    app.add_exception_handler(JWKSUnavailableError, _keys_unavailable)
