"""The /graphql endpoint: the context getter, the refusals raised before execution, the mount.

GET and POST are answered by `app.graphql_http` (media types, status codes). A
WebSocket upgrade is handed to `app.graphql_websocket` (subscriptions over
graphql-transport-ws) or, with subscriptions off, refused before it is
accepted (HTTP 403).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.routing import Route

from app.error_responses import RETRY_AFTER_SECONDS, graphql_error_response
from app.graphiql import graphiql_response, mount_graphiql_assets
from app.graphql_http import GraphQLEndpoint
from app.graphql_websocket import SubscriptionRouter
from app.query_limits import query_limits
from app.request_id import current_request_id
from app.runtime import Runtime
from app.subscriptions import SubscriptionLimits, SubscriptionServer
from auth import InvalidTokenError, JWKSUnavailableError, authenticate
from schema import GraphQLContext, create_schema
from schema.context import UNAUTHENTICATED
from schema.extensions.mask_unexpected_errors import SERVICE_UNAVAILABLE

CLIENT_NAME_HEADERS = ("apollographql-client-name", "graphql-client-name")
_CLIENT_NAME = re.compile(r"[A-Za-z0-9._\-/ @]{1,64}")


def client_name(request: HTTPConnection) -> str:
    """The client's self-declared name, for usage metrics; `unknown` if absent or odd."""
    for header in CLIENT_NAME_HEADERS:
        value = request.headers.get(header)
        if value is not None and _CLIENT_NAME.fullmatch(value.strip()):
            return value.strip()
    return "unknown"


async def get_context(connection: HTTPConnection) -> GraphQLContext:
    """Verify the bearer token, if any, and build the context every resolver reads.

    A WebSocket's context starts anonymous: its user comes from the token in
    `connection_init` (`app/subscriptions.py`), never from the upgrade's headers.
    """
    runtime: Runtime = connection.app.state.runtime
    viewer = None
    if connection.scope["type"] == "http":
        viewer = await authenticate(connection.headers.get("authorization"), runtime.verifier)
    return GraphQLContext(
        viewer=viewer,
        services=runtime.services,
        client_name=client_name(connection),
        request_id=current_request_id(),
    )


async def _invalid_token(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InvalidTokenError)
    # An invalid token is never treated as anonymous: the whole request is refused.
    return graphql_error_response(
        request.headers.get("accept"),
        f"Invalid bearer token: {error.reason}.",
        UNAUTHENTICATED,
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _keys_unavailable(request: Request, error: Exception) -> JSONResponse:
    return graphql_error_response(
        request.headers.get("accept"),
        "The identity provider's signing keys cannot be fetched; try again shortly.",
        SERVICE_UNAVAILABLE,
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def mount_graphql(app: FastAPI, runtime: Runtime) -> None:
    settings = runtime.settings
    schema = create_schema(
        record_operation=runtime.metrics.record_operation,
        introspection=settings.introspection,
        limits=query_limits(settings),
        document_caches=runtime.document_caches,
    )
    endpoint = GraphQLEndpoint(
        schema,
        context_getter=get_context,
        deprecations=runtime.deprecations,
        render_ide=graphiql_response if settings.graphiql else None,
    )
    # Every method reaches the endpoint, which answers all but GET and POST 405.
    app.router.routes.append(Route("/graphql", endpoint, methods=None))
    if settings.subscriptions:
        subscriptions = SubscriptionServer(
            verifier=runtime.verifier,
            limits=settings.fill(
                SubscriptionLimits,
                {
                    "connections_per_user": "websocket_connections_per_user",
                    "connections_total": "websocket_connections_total",
                    "init_timeout_seconds": "websocket_init_timeout_seconds",
                    "token_leeway_seconds": "jwt_leeway_seconds",
                },
            ),
            metrics=runtime.metrics,
        )
        router = SubscriptionRouter(
            schema,
            context_getter=get_context,
            subscriptions=subscriptions,
            allowed_origins=settings.cors_origins,
        )
        app.include_router(router, prefix="/graphql")
    # Otherwise no WebSocket route: an upgrade is closed before it is accepted, which
    # the server answers with HTTP 403 and no traceback. (A 403 with a JSON body,
    # through the ASGI denial-response extension, makes uvicorn 0.54's default
    # WebSocket protocol log a spurious ERROR per refusal: Kludex/uvicorn#3138.)
    if settings.graphiql:
        mount_graphiql_assets(app)
    app.add_exception_handler(InvalidTokenError, _invalid_token)
    app.add_exception_handler(JWKSUnavailableError, _keys_unavailable)
