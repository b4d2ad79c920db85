"""POST /fhir/$process-message: BaRS referral requests (new, update, delete). Thin: read, one use case, answer."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake.adapters.fhir_body import check_media_type, parse_json
from referral_intake.adapters.fhir_http import FhirResponse, Writer, base_url
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import (
    BARS_REQUIRED_HEADERS,
    fhir_request_body,
    fhir_success,
    outcome_responses,
)
from referral_intake.adapters.outcome import FhirError
from referral_intake.bars import referral as bars_referral
from referral_intake.bars.acknowledgement import acknowledgement
from referral_intake.bars.headers import bars_ids
from referral_intake.bars.message import BarsMessage, read_message
from referral_intake.bars_service import withdraw_by_message
from referral_intake.domain.referral import AlreadyClaimedError, StoredReferral
from referral_intake.fhir.routes import duplicate, service_of, settings_of, submit_referral, units_of
from referral_intake.service import DuplicateRequestError, NotWithdrawable, ReferralConflictError, ReferralNotFound
from signpost_contracts.vocabulary import WithdrawalStatus
from signpost_runtime.auth import Principal

router = APIRouter(
    prefix="/fhir",
    tags=["BaRS"],
    dependencies=[Depends(negotiate)],
    default_response_class=FhirResponse,
    responses=outcome_responses(406),
)


@router.post(
    "/$process-message",
    openapi_extra={**fhir_request_body("Bundle"), "parameters": BARS_REQUIRED_HEADERS},
    responses={
        **fhir_success(200, "Accepted: a response message whose focus is Signpost's ServiceRequest", "Bundle"),
        **outcome_responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
    },
)
async def process_message(request: Request, principal: Writer) -> Response:
    request_id, correlation_id = bars_ids(request)
    check_media_type(request.headers.get("content-type"))
    message = read_message(parse_json(await request.body(), settings_of(request).max_json_depth))
    if message.reason == "new":
        referral = await _new_referral(request, message, principal, request_id, correlation_id)
        headers = {"Location": f"{base_url(request)}/fhir/ServiceRequest/{referral.id}"}
    else:
        referral = await _withdrawal(request, message, principal, request_id, correlation_id)
        headers = {}
    return FhirResponse(acknowledgement(message, referral, base_url(request)), headers=headers)


async def _new_referral(
    request: Request, message: BarsMessage, principal: Principal, request_id: str, correlation_id: str
) -> StoredReferral:
    today = datetime.now(UTC).date()
    submission = bars_referral.submission_of(message, correlation_id, today, request_id_sent=True)
    try:
        submitted = await submit_referral(request, submission, principal, correlation_id, request_id)
    except DuplicateRequestError as repeated:
        raise duplicate(repeated, base_url(request)) from None
    except ReferralConflictError:
        raise FhirError.single(409, "conflict", "the same referral is being sent by another request; retry") from None
    return submitted.referral


async def _withdrawal(
    request: Request, message: BarsMessage, principal: Principal, request_id: str, correlation_id: str
) -> StoredReferral:
    sent = message.service_request
    requester = bars_referral.requester_ods(message) or message.sender_ods or principal.ods_code
    status = _withdrawal_status(message)
    if requester is None:
        raise FhirError.single(
            422,
            "required",
            "say whose referral this is: the ServiceRequest's requester or MessageHeader.sender with an ODS code",
            f"{sent.path}.requester",
        )
    for attempt in range(2):
        try:
            async with units_of(request)() as unit:
                return await withdraw_by_message(
                    service_of(request),
                    unit,
                    requester_ods=requester,
                    keys=[bars_referral.sender_key(message)],
                    status=status,
                    principal=principal,
                    request_id=request_id,
                    correlation_id=correlation_id,
                )
        except AlreadyClaimedError:
            if attempt:  # the racing request committed; the next attempt meets its X-Request-ID as a duplicate
                raise
        except ReferralNotFound:
            raise FhirError.single(
                404,
                "not-found",
                f"there is no referral from {requester} that was sent as {sent.full_url} and that you may change; "
                "an update or delete names the ServiceRequest by the fullUrl its new message gave it",
                f"{sent.path}",
            ) from None
        except DuplicateRequestError as repeated:
            raise duplicate(repeated, base_url(request)) from None
        except NotWithdrawable as refused:
            raise FhirError.single(409, "conflict", str(refused), f"{sent.path}.status") from None
    raise AssertionError("unreachable: the second attempt returns or raises")


def _withdrawal_status(message: BarsMessage) -> WithdrawalStatus:
    sent = message.service_request
    status = str(sent.resource.get("status"))
    if message.reason == "delete":
        return "entered-in-error"  # BaRS: delete is the referral sent in error
    if status == "revoked":
        return "revoked"
    if status == "entered-in-error":
        return "entered-in-error"
    raise FhirError.single(
        422,
        "not-supported",
        f"{sent.path}.status is '{status}': Signpost acts on an update that withdraws a referral (status revoked, or "
        "entered-in-error). To change anything else about the referral, contact the service",
        f"{sent.path}.status",
    )
