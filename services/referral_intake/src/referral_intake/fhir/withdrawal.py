"""Withdrawal by the referrer: PATCH (JSON Patch) or PUT of a ServiceRequest whose status becomes revoked or
entered-in-error. Thin routes: read the change, open a unit of work, call the one use case, answer FHIR."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake.adapters import fhir_withdrawal as withdrawal
from referral_intake.adapters.fhir_body import check_media_type, parse_json
from referral_intake.adapters.fhir_http import FhirResponse, Writer
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import (
    IF_MATCH,
    JSON_PATCH_BODY,
    PRECONDITION_FAILED,
    fhir_request_body,
    fhir_success,
    outcome_responses,
)
from referral_intake.adapters.fhir_request import correlation_id
from referral_intake.adapters.outcome import FhirError
from referral_intake.fhir.routes import not_found, service_of, units_of, version_headers
from referral_intake.service import NotWithdrawable, ReferralNotFound, RequestedChange, VersionMismatch
from signpost_contracts.vocabulary import WithdrawalStatus
from signpost_runtime.auth import Principal

router = APIRouter(
    prefix="/fhir",
    tags=["FHIR"],
    dependencies=[Depends(negotiate)],
    default_response_class=FhirResponse,
    responses=outcome_responses(406),
)
_ANSWERS = {
    **fhir_success(
        200, "Withdrawn: the ServiceRequest's new version (ETag and Last-Modified follow)", "ServiceRequest"
    ),
    **outcome_responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
    **PRECONDITION_FAILED,
}


@router.patch(
    "/ServiceRequest/{referral_id}", openapi_extra={**JSON_PATCH_BODY, "parameters": [IF_MATCH]}, responses=_ANSWERS
)
async def patch_service_request(referral_id: str, request: Request, principal: Writer) -> Response:
    patch = withdrawal.read_patch(request.headers.get("content-type"), await request.body())

    def change(stored: dict[str, Any]) -> WithdrawalStatus:
        return withdrawal.requested_withdrawal(stored, withdrawal.patched(stored, patch))

    return await _withdraw(request, referral_id, principal, change)


@router.put(
    "/ServiceRequest/{referral_id}",
    openapi_extra={**fhir_request_body("ServiceRequest"), "parameters": [IF_MATCH]},
    responses=_ANSWERS,
)
async def put_service_request(referral_id: str, request: Request, principal: Writer) -> Response:
    check_media_type(request.headers.get("content-type"))
    sent = parse_json(await request.body(), request.app.state.runtime.settings.max_json_depth)
    proposed = withdrawal.replaced(sent, referral_id)

    def change(stored: dict[str, Any]) -> WithdrawalStatus:
        return withdrawal.requested_withdrawal(stored, proposed)

    return await _withdraw(request, referral_id, principal, change)


async def _withdraw(request: Request, referral_id: str, principal: Principal, change: RequestedChange) -> Response:
    versions = withdrawal.if_match(request.headers.get("if-match"))
    try:
        async with units_of(request)() as unit:
            withdrawn = await service_of(request).withdraw(
                unit, referral_id, principal, change, if_match=versions, correlation_id=correlation_id(request)
            )
    except ReferralNotFound:
        raise not_found("ServiceRequest", referral_id) from None
    except VersionMismatch as stale:
        raise FhirError.single(
            412,
            "conflict",
            f'If-Match is {request.headers.get("if-match")} but the referral is now at version W/"{stale.current}"; '
            "read it again (GET /fhir/ServiceRequest/<id>) and decide on what it says now",
        ) from None
    except NotWithdrawable as refused:
        raise FhirError.single(409, "business-rule", str(refused), "ServiceRequest.status") from None
    return FhirResponse(withdrawn.resource, headers=version_headers(withdrawn))
