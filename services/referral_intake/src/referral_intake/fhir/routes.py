"""Thin FHIR routes: parse, open a unit of work, call one use case, shape the answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from importlib.metadata import version

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake.adapters.capability import capability_statement
from referral_intake.adapters.fhir_http import FhirResponse, Reader, Writer, base_url
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import (
    BARS_HEADERS,
    CONDITION_FAILED,
    IF_NONE_EXIST,
    READ_ERRORS,
    fhir_request_body,
    fhir_success,
    outcome_responses,
)
from referral_intake.adapters.fhir_request import correlation_id, read_referral, request_id
from referral_intake.adapters.fhir_search import if_none_exist
from referral_intake.adapters.fhir_task import task_resource
from referral_intake.adapters.outcome import FhirError
from referral_intake.config import IntakeSettings
from referral_intake.domain.referral import AlreadyClaimedError, ReferralSubmission, StoredReferral
from referral_intake.domain.search import AnyOf
from referral_intake.search_service import ConditionMatchesMany, ConditionMatchesUnreadable
from referral_intake.service import DuplicateRequestError, IntakeService, ReferralConflictError, Submitted
from referral_intake.unit import IntakeUnit
from signpost_runtime.auth import Principal
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.unit_of_work import UnitOfWork

# Every route answers 406 when the client will not take FHIR JSON (negotiate); the edge adds 400 and 413.
router = APIRouter(
    prefix="/fhir",
    tags=["FHIR"],
    dependencies=[Depends(negotiate)],
    default_response_class=FhirResponse,
    responses=outcome_responses(406),
)


def service_of(request: Request) -> IntakeService:
    return request.app.state.intake  # type: ignore[no-any-return]


def units_of(request: Request) -> UnitOfWork[IntakeUnit]:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.units(IntakeUnit)


def settings_of(request: Request) -> IntakeSettings:
    return request.app.state.runtime.settings  # type: ignore[no-any-return]


@router.get("/metadata", responses=fhir_success(200, "What this FHIR endpoint does", "CapabilityStatement"))
async def metadata(request: Request) -> Response:
    return FhirResponse(capability_statement(base_url(request), version("signpost-referral-intake")))


@router.post(
    "/ServiceRequest",
    status_code=201,
    openapi_extra={**fhir_request_body("ServiceRequest"), "parameters": [*BARS_HEADERS, IF_NONE_EXIST]},
    responses={
        **fhir_success(201, "The referral was stored; Location names it", "ServiceRequest"),
        **fhir_success(
            200,
            "The same referral (same identifier) was stored before, or If-None-Exist matched one: that one",
            "ServiceRequest",
        ),
        **outcome_responses(400, 401, 403, 409, 413, 415, 422, 503),
        **CONDITION_FAILED,
    },
)
async def create_service_request(request: Request, principal: Writer) -> Response:
    sent_request_id = request_id(request)
    # The condition is read first: an unsupported parameter in it is a 400 whatever the body holds.
    header = request.headers.get("If-None-Exist")
    condition = if_none_exist(header) if header is not None else None
    submission = await read_referral(request, settings_of(request), request_id=sent_request_id)
    try:
        submitted = await submit_referral(
            request, submission, principal, correlation_id(request), sent_request_id, condition=condition
        )
    except ConditionMatchesMany:
        raise FhirError.single(
            412,
            "multiple-matches",
            "If-None-Exist matches more than one referral your organisation may read: nothing was created; "
            "make the condition select one (identifier=<system>|<value>)",
            "If-None-Exist",
        ) from None
    except ConditionMatchesUnreadable:
        raise FhirError.single(
            412,
            "conflict",
            f"If-None-Exist matches a referral of {submission.referrer.requester} that your token may not read, so it "
            "cannot be returned and none was created beside it; ask that organisation for its status",
            "If-None-Exist",
        ) from None
    except DuplicateRequestError as repeated:
        raise duplicate(repeated, base_url(request)) from None
    except ReferralConflictError:
        raise FhirError.single(
            409, "conflict", "the same referral is being created by another request; retry"
        ) from None
    referral = submitted.referral
    headers = {"Location": f"{base_url(request)}/fhir/ServiceRequest/{referral.id}", **version_headers(referral)}
    return FhirResponse(referral.resource, status_code=201 if submitted.created else 200, headers=headers)


async def submit_referral(
    request: Request,
    submission: ReferralSubmission,
    principal: Principal,
    correlation: str | None,
    sent_request_id: str | None,
    *,
    condition: Sequence[AnyOf] | None = None,
) -> Submitted:
    """Take a referral in (REST or BaRS), in one unit of work; a lost race is resolved in a second."""
    service, unit_of_work = service_of(request), units_of(request)
    try:
        async with unit_of_work() as unit:
            return await service.submit(unit, submission, principal, correlation, sent_request_id, condition)
    except AlreadyClaimedError:
        # Lost a race with the same request or referral sent twice at once; the winner has committed.
        async with unit_of_work() as unit:
            return await service.resolve_race(unit, submission, sent_request_id)


@router.get(
    "/ServiceRequest/{referral_id}",
    responses={**fhir_success(200, "The referral as it was received", "ServiceRequest"), **READ_ERRORS},
)
async def read_service_request(referral_id: str, request: Request, principal: Reader) -> Response:
    async with units_of(request)() as unit:
        referral = await service_of(request).referral(unit, referral_id, principal)
    if referral is None:
        raise not_found("ServiceRequest", referral_id)
    return FhirResponse(referral.resource, headers=version_headers(referral))


@router.get("/Task/{task_id}", responses={**fhir_success(200, "Where the referral has got to", "Task"), **READ_ERRORS})
async def read_task(task_id: str, request: Request, principal: Reader) -> Response:
    async with units_of(request)() as unit:
        found = await service_of(request).task(unit, task_id, principal)
    if found is None:
        raise not_found("Task", task_id)
    return FhirResponse(task_resource(*found))


def not_found(resource_type: str, resource_id: str) -> FhirError:
    # The same answer whether the id is unknown or another organisation's: no existence oracle.
    return FhirError.single(
        404,
        "not-found",
        f"there is no {resource_type} with id '{resource_id}' that your organisation may read; "
        "check the id in the Location you were given",
    )


def duplicate(repeated: DuplicateRequestError, base: str) -> FhirError:
    # BaRS: a repeated X-Request-ID is answered 409 with issue code `duplicate` (senders take it as success), and
    # is not processed again, whether it created the referral or withdrew it.
    return FhirError.single(
        409,
        "duplicate",
        f"X-Request-ID {repeated.request_id} was already sent by your organisation and has been processed (the "
        f"referral is {base}/fhir/ServiceRequest/{repeated.referral_id}); this one was not processed again. To send "
        "a new request, give it a new X-Request-ID",
    )


def version_headers(referral: StoredReferral) -> dict[str, str]:
    """ETag (meta.versionId: 1 as received, 2 once withdrawn) and Last-Modified (meta.lastUpdated)."""
    modified = referral.last_updated.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return {"ETag": f'W/"{referral.version}"', "Last-Modified": modified}
