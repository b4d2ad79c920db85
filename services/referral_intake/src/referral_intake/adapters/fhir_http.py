"""HTTP plumbing for the FHIR endpoint: responses, base URL, auth dependencies, error handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from referral_intake.adapters.outcome import FHIR_JSON, FhirError, Issue, operation_outcome
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal, scope_required

log = logging.getLogger(__name__)


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def base_url(request: Request) -> str:
    configured = getattr(request.app.state, "public_base_url", None)
    return str(configured or request.base_url).rstrip("/")


def _referral_sender(request: Request) -> Principal:
    """A token that may send referrals: its organisation's own, or others' as an intermediary."""
    principal = scope_required(Scope.REFERRALS_WRITE, Scope.REFERRALS_WRITE_ON_BEHALF)(request)
    # A referral is sent on behalf of an organisation; a plain writer that names none could claim any.
    if not principal.is_intermediary and not principal.ods_code:
        raise AuthError(
            403,
            "this token has the referrals:write scope but names no organisation: a token that sends "
            "referrals must carry the caller's ODS code (`ods` claim), the same code as the referral's "
            "requester. Ask your identity provider for a token with your organisation's `ods` claim, or, "
            "for an integration engine sending for several organisations, the referrals:write-on-behalf scope",
        )
    return principal


Writer = Annotated[Principal, Depends(_referral_sender)]
Reader = Annotated[Principal, Depends(scope_required(Scope.REFERRALS_READ))]


def outcome_response(error: FhirError, headers: Mapping[str, str] | None = None) -> FhirResponse:
    return FhirResponse(operation_outcome(error.issues, error.status), status_code=error.status, headers=headers)


async def _fhir_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return outcome_response(exc)


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    # BaRS answers 401 as well as 403 with issue code `forbidden` (401-REC_UNAUTHORIZED-forbidden).
    return outcome_response(FhirError.single(exc.status_code, "forbidden", exc.message), headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not request.url.path.startswith("/fhir"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 404:
        message = f"{request.url.path} is not a resource or operation here; see GET /fhir/metadata for what is"
        return outcome_response(FhirError.single(404, "not-found", message))
    if exc.status_code == 405:
        message = f"{request.method} is not supported on {request.url.path}; see GET /fhir/metadata"
        return outcome_response(FhirError.single(405, "not-supported", message), exc.headers)
    return outcome_response(FhirError.single(exc.status_code, "processing", str(exc.detail)))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [
        Issue("invalid", f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}", str(error["loc"][-1]))
        for error in exc.errors()
    ]
    return outcome_response(FhirError(issues or [Issue("invalid", "the request is not valid")], 400))


# The database or the network failing is an outage, not a bad request: say so, and when to retry.
_OUTAGES = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)
RETRY_AFTER_SECONDS = 5


async def _outage(request: Request, exc: Exception) -> Response:
    log.warning("outage while handling %s %s: %r", request.method, request.url.path, exc)
    message = (
        "the referral store is unavailable just now. Retry in a few seconds: resending the same "
        "ServiceRequest.identifier or X-Request-ID is safe, a repeat is recognised and never stored twice"
    )
    error = FhirError.single(503, "transient", message)
    return outcome_response(error, {"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = (
        "the server failed to handle this request. Resend it (a repeated ServiceRequest.identifier or "
        "X-Request-ID is never stored twice), and report it if it persists"
    )
    return outcome_response(FhirError.single(500, "exception", message))


def install_error_handlers(app: FastAPI) -> None:
    """FHIR clients get OperationOutcomes for every error, auth errors included (replacing the runtime's JSON)."""
    handlers: dict[Any, Callable[[Request, Exception], Any]] = {
        FhirError: _fhir_error,
        AuthError: _auth_error,
        StarletteHTTPException: _http_error,
        RequestValidationError: _validation_error,
        **dict.fromkeys(_OUTAGES, _outage),
        Exception: _server_error,
    }
    for exception, handler in handlers.items():
        app.add_exception_handler(exception, handler)
