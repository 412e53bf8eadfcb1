"""GET and POST /graphql: GraphQL over HTTP, answered by one plain ASGI endpoint.

Media types and status codes follow the GraphQL-over-HTTP spec (DESIGN §9). A
client that accepts `application/graphql-response+json` gets it, with 400 for a
request that could not be executed at all (malformed body or parameters, a
document that does not parse or validate, variables that do not coerce) and no
`data` entry in that case. Every other client gets `application/json` as
before: 200 with `errors` once a request could be read, 400 when it could not.
Whatever the media type: 401 for an invalid token, 405 with `Allow: POST` for
a mutation over GET, 503 with Retry-After while the issuer's keys cannot be
fetched or when execution reports the database unreachable (an error with
code `SERVICE_UNAVAILABLE`). Batching, multipart and streaming are off.

Why not Strawberry's FastAPI router: it answers request errors as `text/plain`
400s (and mutations over GET as 400, a body nested too deeply for `json` as a
500), so most of it was overridden here anyway, and the rest (FastAPI's
dependency solving for the context, request and response adapters) cost about
0.2 ms of CPU per request, more than executing a small query. The document
itself still runs through `Schema.execute`, with every schema extension.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from app.deprecation import DeprecatedUsageDesk
from app.error_responses import (
    GRAPHQL_RESPONSE_JSON,
    RETRY_AFTER_SECONDS,
    MediaType,
    content_type_header,
    graphql_error_response,
    response_media_type,
)
from app.request_json import UnrepresentableJSONError, loads_request_json
from db.stored_json import encode_stored_json
from schema import GraphQLContext
from schema.extensions.mask_unexpected_errors import SERVICE_UNAVAILABLE

__all__ = ["GraphQLEndpoint", "RequestRefusedError", "loads_request_body"]

ContextGetter = Callable[[Request], Awaitable[GraphQLContext]]
RenderIDE = Callable[[], Response]

# Digits enough for an integer past 64 bits: orjson would read it as a float.
_LONG_NUMBER = re.compile(rb"\d{19}")
ALLOWED_METHODS = "GET, POST"
_ALLOWED_OPERATIONS = {
    "GET": frozenset(OperationType.from_http("GET")),
    "POST": frozenset(OperationType.from_http("POST")),
}


class RequestRefusedError(Exception):
    """The request cannot be executed; answered with `status` and a GraphQL error body."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def loads_request_body(data: str | bytes) -> object:
    """The request's JSON, refusing what `loads_request_json` refuses, with its messages.

    orjson reads the common body about ten times faster than `json`; whatever it
    refuses, and any integer too long for it to keep exact, is read by `json`
    (through `loads_request_json`), whose answer stands.
    """
    raw = data.encode() if isinstance(data, str) else data
    if not _LONG_NUMBER.search(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return loads_request_json(data)
    except RecursionError as error:
        # `json` gives up on about a thousand nested arrays; that is the client's fault.
        raise RequestRefusedError(400, "The JSON is nested too deeply to parse.") from error
    except UnrepresentableJSONError as error:
        raise RequestRefusedError(400, str(error)) from error
    except ValueError as error:  # JSONDecodeError, and bytes that are not UTF-8
        raise RequestRefusedError(400, "The request body is not valid UTF-8 JSON.") from error


def _member(data: Mapping[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        expected = "a string" if kind is str else "an object"
        raise RequestRefusedError(400, f"The request's `{name}` must be {expected} or null.")
    return value


def _query_parameters(request: Request) -> dict[str, Any]:
    parameters: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if parameters.get(name):
            parameters[name] = loads_request_body(parameters[name])
    return parameters


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


def _wants_ide(request: Request) -> bool:
    # As Strawberry decides: a browser's GET with no query is asking for the IDE.
    accept = request.headers.get("accept", "")
    return "query" not in request.query_params and ("text/html" in accept or "*/*" in accept)


class GraphQLEndpoint:
    """The ASGI app behind GET and POST /graphql."""

    def __init__(
        self,
        schema: Schema,
        context_getter: ContextGetter,
        deprecations: DeprecatedUsageDesk,
        render_ide: RenderIDE | None,
    ) -> None:
        self.schema = schema
        self.context_getter = context_getter
        self.deprecations = deprecations
        self.render_ide = render_ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        accept = request.headers.get("accept")
        if request.method not in _ALLOWED_OPERATIONS:
            return graphql_error_response(
                accept,
                "Method Not Allowed",
                "METHOD_NOT_ALLOWED",
                status_code=405,
                headers={"Allow": ALLOWED_METHODS},
            )
        media_type = response_media_type(accept)
        # The token first, whatever else is wrong with the request: an invalid one
        # raises InvalidTokenError, which the app answers 401 (`app.graphql`).
        context = await self.context_getter(request)
        try:
            if request.method == "GET" and _wants_ide(request):
                if self.render_ide is None:
                    raise RequestRefusedError(404, "Not Found", "NOT_FOUND")
                return self.render_ide()
            return await self._execute(request, context, media_type)
        except RequestRefusedError as refused:
            headers = {"Allow": "POST"} if refused.status == 405 else None
            return graphql_error_response(
                accept, refused.message, refused.code, status_code=refused.status, headers=headers
            )

    async def _execute(
        self, request: Request, context: GraphQLContext, media_type: MediaType
    ) -> Response:
        method = request.method
        data = _query_parameters(request) if method == "GET" else await self._body(request)
        if not isinstance(data, dict):
            raise RequestRefusedError(400, "The request body must be a JSON object.")
        try:
            result = await self.schema.execute(
                _member(data, "query", str),
                variable_values=_member(data, "variables", dict),
                context_value=context,
                operation_name=_member(data, "operationName", str),
                allowed_operation_types=_ALLOWED_OPERATIONS[method],
                operation_extensions=_member(data, "extensions", dict),
            )
        except MissingQueryError:
            raise RequestRefusedError(400, "No GraphQL query found in the request") from None
        except CannotGetOperationTypeError as error:
            raise RequestRefusedError(400, error.as_http_error_reason()) from None
        except InvalidOperationTypeError as error:
            if method == "GET":
                raise RequestRefusedError(
                    405,
                    "Only queries can be sent with GET; send mutations with POST.",
                    "METHOD_NOT_ALLOWED",
                ) from None
            raise RequestRefusedError(400, error.as_http_error_reason(method)) from None
        return self._response(result, context, media_type)

    async def _body(self, request: Request) -> object:
        # Only JSON POSTs get this far: RequestLimitsMiddleware answers every other one 415.
        return loads_request_body(await request.body())

    def _response(
        self, result: ExecutionResult, context: GraphQLContext, media_type: MediaType
    ) -> Response:
        status = 200
        headers = MutableHeaders()
        if any(_code_of(error) == SERVICE_UNAVAILABLE for error in result.errors or ()):
            # Execution reported a passing outage (the database could not be
            # reached): the whole response says so, and when to try again.
            status = 503
            headers["Retry-After"] = RETRY_AFTER_SECONDS
        self.deprecations.after_execution(context, headers)
        body: GraphQLHTTPResponse = process_result(result)
        if media_type == GRAPHQL_RESPONSE_JSON and _is_request_error(result):
            # The spec: a request that could not be executed has no `data` entry.
            del body["data"]
            status = 400
        return Response(
            # Compact UTF-8 JSON, as JSON columns store it: orjson, and `json`
            # for what orjson cannot write (an integer past 64 bits).
            encode_stored_json(body),
            status_code=status,
            headers=dict(headers),
            media_type=content_type_header(media_type),
        )
