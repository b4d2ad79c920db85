"""HTTP plumbing for the FHIR endpoint: responses, base URL, auth dependencies, errors as OperationOutcomes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from referral_intake.adapters.fhir_openapi import OPERATION_OUTCOME_SCHEMA
from referral_intake.adapters.outcome import FHIR_JSON, FhirError, Issue, operation_outcome
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal, scope_required
from signpost_runtime.problems import ErrorShape, Problem, shapes_of


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def base_url(request: Request) -> str:
    """The configured base URL of links in answers (IntakeSettings.base_url), never the Host header."""
    return str(request.app.state.base_url)


def _referral_sender(request: Request) -> Principal:
    """A token that may send referrals: its organisation's own (by ODS code, or a partner's by `org`), or others'
    as an intermediary."""
    principal = scope_required(Scope.REFERRALS_WRITE, Scope.REFERRALS_WRITE_ON_BEHALF)(request)
    # A referral is sent on behalf of an organisation; a plain writer that names none could claim any.
    if not principal.is_intermediary and not principal.ods_code and not principal.partner_id:
        raise AuthError(
            403,
            "this token has the referrals:write scope but names no organisation: a token that sends "
            "referrals must carry the caller's ODS code (`ods` claim), the same code as the referral's "
            "requester, or a registered partner organisation's id (`org` claim). Ask your identity provider for a "
            "token with your organisation's `ods` claim, or, "
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


# FHIR issue types for what the kit's edge refuses (BaRS: 401 and 403 both travel as `forbidden`).
_ISSUE_CODES = {
    400: "invalid",
    401: "forbidden",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-long",
    415: "not-supported",
    500: "exception",
    503: "transient",
}
_SAFE_TO_RESEND = "resending the same ServiceRequest.identifier or X-Request-ID is safe: a repeat is never stored twice"
_GUIDANCE = {
    404: "; see GET /fhir/metadata for what is",
    405: "; see GET /fhir/metadata",
    413: ". Send attachments by reference rather than inline",
    500: f"; {_SAFE_TO_RESEND}",
    503: f"; {_SAFE_TO_RESEND}",
}


def _as_outcome(problem: Problem) -> Response:
    """Whatever the kit's edge refuses on /fhir (limits, malformed input, tokens, outages, bugs), as FHIR."""
    code = _ISSUE_CODES.get(problem.status, "processing")
    issues = [Issue(code, error.message, error.field, problem.status) for error in problem.errors]
    diagnostics = problem.detail + _GUIDANCE.get(problem.status, "")
    return outcome_response(FhirError(issues or [Issue(code, diagnostics, status=problem.status)]), problem.headers)


FHIR_ERRORS = ErrorShape(_as_outcome, FHIR_JSON, "OperationOutcome", OPERATION_OUTCOME_SCHEMA)


def install_error_handlers(app: FastAPI) -> None:
    """FHIR clients get OperationOutcomes for every error under /fhir, the kit's edge errors included."""
    shapes_of(app).register("/fhir", FHIR_ERRORS)
    app.add_exception_handler(FhirError, _fhir_error)
