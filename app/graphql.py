"""The /graphql endpoint: GraphQL over HTTP, the context getter, errors raised before execution.

Media types and status codes follow the GraphQL-over-HTTP spec (DESIGN §9). A
client that accepts `application/graphql-response+json` gets it, with 400 for a
request that could not be executed at all (malformed body or parameters, a
document that does not parse or validate, variables that do not coerce) and no
`data` entry in that case. Every other client gets `application/json` as
before: 200 with `errors` once a request could be read, 400 when it could not.
Whatever the media type: 401 for an invalid token, 405 with `Allow: POST` for
a mutation over GET, 503 with Retry-After while the issuer's keys cannot be
fetched or when execution reports the database unreachable (an error with
code `SERVICE_UNAVAILABLE`).

A WebSocket upgrade is handed to `app/subscriptions.py` (graphql-transport-ws),
or, with subscriptions off, refused before it is accepted (HTTP 403).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, overload

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIWebSocketRoute
from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.error_responses import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    RETRY_AFTER_SECONDS,
    code_for_status,
    content_type_header,
    graphql_error_response,
    response_media_type,
)
from app.graphiql import graphiql_response, mount_graphiql_assets
from app.query_limits import query_limits
from app.request_id import current_request_id
from app.request_json import UnrepresentableJSONError, loads_request_json
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


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: the document did not parse or validate, or variables did not coerce.

    Those errors carry no `path`; an error raised while executing always does,
    even when it nulls the whole `data`.
    """
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _code_of(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def _member(data: Mapping[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        expected = "a string" if kind is str else "an object"
        raise HTTPException(400, f"The request's `{name}` must be {expected} or null.")
    return value


class GraphQLOverHTTPRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's FastAPI router, answering as the module docstring says.

    Strawberry answers request errors as `text/plain` with 400, mutations over
    GET with 400, and a body nested too deeply for `json` with a 500
    (RecursionError); each of those is a GraphQL error body here. WebSockets
    go to `subscriptions`.
    """

    subscriptions: SubscriptionServer | None = None

    @overload
    async def run(
        self,
        request: Request,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> Response: ...

    @overload
    async def run(
        self,
        request: WebSocket,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: GraphQLContext = UNSET,
        root_value: None = UNSET,
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            # Browsers send Origin; a page on an origin not allowed is refused (403).
            if self.subscriptions is None or not self._check_websocket_origin(request):
                return await self.reject_websocket(request)
            await self.subscriptions.serve(self, request, context)
            return request
        media_type = response_media_type(request.headers.get("accept"))
        request.state.graphql_media_type = media_type
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            return graphql_error_response(
                request.headers.get("accept"),
                error.reason,
                code_for_status(error.status_code),
                status_code=error.status_code,
                headers={"Allow": "POST"} if error.status_code == 405 else None,
            )
        if media_type == GRAPHQL_RESPONSE_JSON and response.media_type == APPLICATION_JSON:
            response.headers["content-type"] = content_type_header(media_type)
            if getattr(request.state, "graphql_request_error", False):
                response.status_code = 400
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        # Replaces Strawberry's: batching, multipart and streaming are off here,
        # and every parameter's type is checked (Strawberry passes a numeric
        # `operationName` on, and a body of `null` or `1` raises AttributeError).
        # Only JSON POSTs get this far: RequestLimitsMiddleware answers every other one 415.
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        else:
            data = self.parse_json(await request.get_body())
        if not isinstance(data, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return GraphQLRequestData(
            query=_member(data, "query", str),
            variables=_member(data, "variables", dict),
            operation_name=_member(data, "operationName", str),
            extensions=_member(data, "extensions", dict),
        )

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except RecursionError as error:
            # `json` gives up on about a thousand nested arrays; that is the client's fault.
            raise HTTPException(400, "The JSON is nested too deeply to parse.") from error
        except UnrepresentableJSONError as error:
            raise HTTPException(400, str(error)) from error
        except ValueError as error:  # JSONDecodeError, and bytes that are not UTF-8
            raise HTTPException(400, "The request body is not valid UTF-8 JSON.") from error

    def decode_json(self, data: str | bytes) -> object:
        return loads_request_json(data)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: GraphQLContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(
                error.__cause__, InvalidOperationTypeError
            ):
                raise HTTPException(
                    405, "Only queries can be sent with GET; send mutations with POST."
                ) from error
            raise
        if any(_code_of(error) == SERVICE_UNAVAILABLE for error in result.errors or ()):
            # Execution reported a passing outage (the database could not be
            # reached): the whole response says so, and when to try again.
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        runtime: Runtime = request.app.state.runtime
        runtime.deprecations.after_execution(context, sub_response.headers)
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = process_result(result)
        if getattr(
            request.state, "graphql_media_type", APPLICATION_JSON
        ) == GRAPHQL_RESPONSE_JSON and _is_request_error(result):
            # The spec: a request that could not be executed has no `data` entry.
            request.state.graphql_request_error = True
            del response["data"]
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_response()


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
    router = GraphQLOverHTTPRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        allowed_origins=settings.cors_origins,
    )
    if settings.subscriptions:
        router.subscriptions = SubscriptionServer(
            verifier=runtime.verifier,
            limits=SubscriptionLimits(
                subscriptions_per_connection=settings.subscriptions_per_connection,
                connections_per_user=settings.websocket_connections_per_user,
                connections_total=settings.websocket_connections_total,
                init_timeout_seconds=settings.websocket_init_timeout_seconds,
                token_leeway_seconds=settings.jwt_leeway_seconds,
            ),
            metrics=runtime.metrics,
        )
    else:
        # No WebSocket route: an upgrade is closed before it is accepted, which the
        # server answers with HTTP 403 and no traceback. (A 403 with a JSON body,
        # through the ASGI denial-response extension, makes uvicorn 0.54's default
        # WebSocket protocol log a spurious ERROR per refusal: Kludex/uvicorn#3138.)
        router.routes = [
            route for route in router.routes if not isinstance(route, APIWebSocketRoute)
        ]
    app.include_router(router, prefix="/graphql")
    if settings.graphiql:
        mount_graphiql_assets(app)
    app.add_exception_handler(InvalidTokenError, _invalid_token)
    app.add_exception_handler(JWKSUnavailableError, _keys_unavailable)
