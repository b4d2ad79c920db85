"""Thin FHIR routes: parse, open a unit of work, call one use case, shape the answer."""

from __future__ import annotations

from datetime import UTC
from importlib.metadata import version

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake.adapters.capability import capability_statement
from referral_intake.adapters.fhir_http import FhirResponse, Reader, Writer, base_url
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import (
    BARS_HEADERS,
    FOCUS,
    READ_ERRORS,
    fhir_request_body,
    fhir_success,
    outcome_responses,
)
from referral_intake.adapters.fhir_request import correlation_id, read_referral, request_id
from referral_intake.adapters.fhir_task import searchset, task_resource
from referral_intake.adapters.outcome import FhirError
from referral_intake.config import IntakeSettings
from referral_intake.domain.referral import AlreadyClaimedError, ReferralSubmission, StoredReferral
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


def _settings(request: Request) -> IntakeSettings:
    return request.app.state.runtime.settings  # type: ignore[no-any-return]


@router.get("/metadata", responses=fhir_success(200, "What this FHIR endpoint does", "CapabilityStatement"))
async def metadata(request: Request) -> Response:
    return FhirResponse(capability_statement(base_url(request), version("signpost-referral-intake")))


@router.post(
    "/ServiceRequest",
    status_code=201,
    openapi_extra={**fhir_request_body("ServiceRequest"), "parameters": BARS_HEADERS},
    responses={
        **fhir_success(201, "The referral was stored; Location names it", "ServiceRequest"),
        **fhir_success(200, "The same referral (same identifier) was stored before: that one", "ServiceRequest"),
        **outcome_responses(400, 401, 403, 409, 413, 415, 422, 503),
    },
)
async def create_service_request(request: Request, principal: Writer) -> Response:
    sent_request_id = request_id(request)
    submission = await read_referral(request, _settings(request), request_id=sent_request_id)
    service, unit_of_work = service_of(request), units_of(request)
    try:
        submitted = await _submit(
            service, unit_of_work, submission, principal, correlation_id(request), sent_request_id
        )
    except DuplicateRequestError as duplicate:
        raise _duplicate(duplicate, base_url(request)) from None
    except ReferralConflictError:
        raise FhirError.single(
            409, "conflict", "the same referral is being created by another request; retry"
        ) from None
    referral = submitted.referral
    headers = {"Location": f"{base_url(request)}/fhir/ServiceRequest/{referral.id}", **version_headers(referral)}
    return FhirResponse(referral.resource, status_code=201 if submitted.created else 200, headers=headers)


async def _submit(
    service: IntakeService,
    unit_of_work: UnitOfWork[IntakeUnit],
    submission: ReferralSubmission,
    principal: Principal,
    correlation: str | None,
    sent_request_id: str | None,
) -> Submitted:
    try:
        async with unit_of_work() as unit:
            return await service.submit(unit, submission, principal, correlation, sent_request_id)
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


@router.get(
    "/Task",
    # `focus` is read here rather than by FastAPI, so that leaving it out is answered with how to search.
    openapi_extra={"parameters": [FOCUS]},
    responses={
        **fhir_success(200, "A searchset Bundle with the referral's Task, or none", "Bundle"),
        **outcome_responses(400, 401, 403, 503),
    },
)
async def search_tasks(request: Request, principal: Reader) -> Response:
    focus = request.query_params.get("focus")
    if not focus:
        raise FhirError.single(
            400,
            "required",
            "search Tasks by the referral they follow: GET /fhir/Task?focus=ServiceRequest/<id>",
            "focus",
        )
    async with units_of(request)() as unit:
        found = await service_of(request).task_for_referral(unit, _referral_id(focus), principal)
    tasks = [task_resource(*found)] if found else []
    return FhirResponse(searchset(tasks, base_url(request), str(request.url)))


@router.get("/Task/{task_id}", responses={**fhir_success(200, "Where the referral has got to", "Task"), **READ_ERRORS})
async def read_task(task_id: str, request: Request, principal: Reader) -> Response:
    async with units_of(request)() as unit:
        found = await service_of(request).task(unit, task_id, principal)
    if found is None:
        raise not_found("Task", task_id)
    return FhirResponse(task_resource(*found))


def _referral_id(focus: str) -> str:
    # Accept 'ServiceRequest/<id>', an absolute URL ending in it, or the bare id.
    parts = focus.rstrip("/").split("/")
    if len(parts) > 1 and parts[-2] != "ServiceRequest":
        raise FhirError.single(
            400, "value", f"focus '{focus}' is not a ServiceRequest; use focus=ServiceRequest/<id>", "focus"
        )
    return parts[-1]


def not_found(resource_type: str, resource_id: str) -> FhirError:
    # The same answer whether the id is unknown or another organisation's: no existence oracle.
    return FhirError.single(
        404,
        "not-found",
        f"there is no {resource_type} with id '{resource_id}' that your organisation may read; "
        "check the id in the Location you were given",
    )


def _duplicate(duplicate: DuplicateRequestError, base: str) -> FhirError:
    # BaRS: a repeated X-Request-ID is answered 409 with issue code `duplicate`, and not processed again.
    return FhirError.single(
        409,
        "duplicate",
        f"X-Request-ID {duplicate.request_id} was already sent by your organisation, and that request created "
        f"{base}/fhir/ServiceRequest/{duplicate.referral_id}; this one was not processed again. To send a new "
        "referral, give it a new X-Request-ID",
    )


def version_headers(referral: StoredReferral) -> dict[str, str]:
    """ETag (meta.versionId: 1 as received, 2 once withdrawn) and Last-Modified (meta.lastUpdated)."""
    modified = referral.last_updated.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return {"ETag": f'W/"{referral.version}"', "Last-Modified": modified}
