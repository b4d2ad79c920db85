"""Which problem each failure at the HTTP edge is, installed on every service's app by build_app.

A refused token keeps its 401/403; a path or method that does not exist is 404/405; a parameter that
fails validation is 400 naming it (not FastAPI's 422); the database, broker or network failing
(`is_infrastructure_error`, the rule the consumer uses too) is 503 with Retry-After, never 500; a bug
is 500 and never shows its stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match

from signpost_runtime import auth
from signpost_runtime.problems import RETRY_AFTER_SECONDS, FieldError, Problem, shapes_of
from signpost_runtime.resilience import is_infrastructure_error

log = logging.getLogger(__name__)


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
        allowed = _allowed_methods(request) or (exc.headers or {}).get("Allow", "")
        detail = f"{method} is not supported on {path}" + (f"; it takes {allowed}" if allowed else "")
        return _respond(request, Problem(405, detail, headers={**(exc.headers or {}), "Allow": allowed}))
    else:
        detail = str(exc.detail)
    return _respond(request, Problem(exc.status_code, detail, headers=dict(exc.headers or {})))


def _allowed_methods(request: Request) -> str:
    """Every method the path takes. Starlette's own Allow names only the first route matching the path,
    so a path served by two routes (GET and POST /sign-in) would claim to take only one of them."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # through included routers
        match, _ = route.matches({**request.scope, "method": "\0"})  # no method matches: path only
        if match is Match.PARTIAL:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


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
