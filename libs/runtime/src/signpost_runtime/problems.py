"""Errors as RFC 9457 problems, whatever raised them, in the shape each path answers in.

Every failure a service can meet at its HTTP edge becomes one `Problem`: a refused token, a path or
method that does not exist, a parameter that fails validation (400 here, not FastAPI's 422), an outage
of the database, broker or network (`is_infrastructure_error`: 503 with Retry-After, never 500), a bug
(500, never a stack trace). `ErrorShapes` then renders it: `application/problem+json` by default, and
in whatever shape a service registers for a path prefix (intake: OperationOutcomes under /fhir).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from signpost_runtime import auth
from signpost_runtime.resilience import is_infrastructure_error

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(eq=False)  # an exception compares and hashes by identity
class Problem(Exception):  # noqa: N818 (RFC 9457 names it so; it is raised and also rendered)
    """An RFC 9457 problem. Raise it from a route; the edge answers with it in the path's shape."""

    status: int
    detail: str
    errors: Sequence[FieldError] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    # "about:blank": the status code says all there is to say about the kind of problem (RFC 9457 4.2.1).
    type: str = "about:blank"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(problem: Problem) -> Response:
    return ProblemResponse(problem.body(), status_code=problem.status, headers=dict(problem.headers))


Render = Callable[[Problem], Response]


@dataclass(frozen=True)
class ErrorShape:
    """How errors are rendered on some paths, and how the OpenAPI document describes them."""

    render: Render
    media_type: str
    schema_name: str
    schema: Mapping[str, Any]


PROBLEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; `errors` names each field at fault when there are any",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_SHAPE = ErrorShape(problem_response, PROBLEM_JSON, "Problem", PROBLEM_SCHEMA)


class ErrorShapes:
    """Which shape errors take on which paths: problem+json unless a registered prefix says otherwise."""

    def __init__(self) -> None:
        self._by_prefix: list[tuple[str, ErrorShape]] = []

    def register(self, prefix: str, shape: ErrorShape) -> None:
        self._by_prefix.append((prefix.rstrip("/"), shape))

    def shape_for(self, path: str) -> ErrorShape:
        for prefix, shape in self._by_prefix:
            if path == prefix or path.startswith(f"{prefix}/"):
                return shape
        return PROBLEM_SHAPE

    def all(self) -> list[ErrorShape]:
        return [PROBLEM_SHAPE, *(shape for _, shape in self._by_prefix)]

    def respond(self, path: str, problem: Problem) -> Response:
        return self.shape_for(path).render(problem)


def shapes_of(app: Any) -> ErrorShapes:
    shapes: ErrorShapes = app.state.error_shapes
    return shapes


def _respond(request: Request, problem: Problem) -> Response:
    return shapes_of(request.app).respond(request.url.path, problem)


def unavailable(detail: str = "the service's database, broker or network is unavailable just now") -> Problem:
    return Problem(503, f"{detail}; retry in a few seconds", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def server_error() -> Problem:
    return Problem(500, "the server failed to handle this request; retry, and report it if it persists")


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _respond(request, exc)


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.AuthError)
    if exc.status_code >= 500:  # the token could not be checked (e.g. the key set is unreachable)
        return _respond(request, unavailable(exc.message))
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    return _respond(request, Problem(exc.status_code, exc.message, headers=headers))


async def _auth_unavailable(request: Request, exc: Exception) -> Response:
    return _respond(request, unavailable(str(exc) or "the token cannot be checked just now"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path, method = request.url.path, request.method
    if exc.status_code == 404:
        detail = f"{path} is not a resource or operation here"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{method} is not supported on {path}" + (f"; it takes {allowed}" if allowed else "")
    else:
        detail = str(exc.detail)
    return _respond(request, Problem(exc.status_code, detail, headers=dict(exc.headers or {})))


_LOCATIONS = {"query": "query parameter", "path": "path parameter", "header": "header", "cookie": "cookie"}


def _field_error(error: Mapping[str, Any]) -> FieldError:
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "is not valid"))
    if len(location) >= 2 and location[0] in _LOCATIONS:
        name = ".".join(location[1:])
        return FieldError(name, f"{_LOCATIONS[location[0]]} '{name}': {message}")
    name = ".".join(location) or "request"  # the body: ('body', 'items', 0) -> body.items.0
    return FieldError(name, f"{name}: {message}")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()][:10]
    named = "; ".join(error.message for error in errors)
    return _respond(request, Problem(400, f"the request is not valid: {named or 'see the API description'}", errors))


async def _infrastructure(request: Request, exc: Exception) -> Response:
    if is_infrastructure_error(exc):
        # The database or the network failing is an outage, not a bad request: say so, and when to retry.
        log.warning("outage while handling %s %s: %r", request.method, request.url.path, exc)
        return _respond(request, unavailable())
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, server_error())


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the exception and its traceback after this answer; the answer holds neither.
    return _respond(request, server_error())


# The classes `is_infrastructure_error` decides among; which of them are outages it alone says.
_INFRASTRUCTURE_CANDIDATES: tuple[type[Exception], ...] = (
    OSError,  # TimeoutError included
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    kafka_errors.KafkaError,
)


def install_problem_handlers(app: FastAPI) -> None:
    handlers: dict[Any, Callable[[Request, Exception], Any]] = {
        Problem: _problem,
        auth.AuthError: _auth_error,
        HTTPException: _http_error,
        RequestValidationError: _validation_error,
        **dict.fromkeys(_INFRASTRUCTURE_CANDIDATES, _infrastructure),
        Exception: _server_error,
    }
    # A token that cannot be checked because the identity provider is unreachable is an outage too.
    unavailable_auth = getattr(auth, "AuthUnavailable", None)
    if isinstance(unavailable_auth, type) and issubclass(unavailable_auth, Exception):
        handlers[unavailable_auth] = _auth_unavailable
    for exception, handler in handlers.items():
        app.add_exception_handler(exception, handler)
