"""Thin FHIR search routes: GET /fhir/ServiceRequest?identifier= and GET /fhir/Task (the polling pattern)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake import search_service
from referral_intake.adapters.fhir_http import FhirResponse, Reader, base_url
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import IDENTIFIER, PREFER, TASK_SEARCH, fhir_success, outcome_responses
from referral_intake.adapters.fhir_search import (
    SERVICE_REQUEST_PARAMETERS,
    TASK_PARAMETERS,
    SearchParameters,
    identifier_conditions,
    is_lenient,
    page_after,
    page_size,
    task_query,
)
from referral_intake.adapters.fhir_search_values import cursor
from referral_intake.adapters.fhir_searchset import searchset
from referral_intake.adapters.fhir_task import task_resource
from referral_intake.fhir.routes import units_of

router = APIRouter(
    prefix="/fhir",
    tags=["FHIR"],
    dependencies=[Depends(negotiate)],
    default_response_class=FhirResponse,
    responses=outcome_responses(400, 401, 403, 406, 503),
)


def _parameters(request: Request, supported: tuple[str, ...]) -> SearchParameters:
    lenient = is_lenient(request.headers.get("Prefer"))
    return SearchParameters(request.query_params.multi_items(), supported, lenient=lenient)


@router.get(
    "/ServiceRequest",
    # Parameters are read here rather than by FastAPI, so that FHIR's token syntax and strictness apply.
    openapi_extra={"parameters": [IDENTIFIER, PREFER]},
    responses=fhir_success(200, "A searchset Bundle of the referrals your organisation may read", "Bundle"),
)
async def search_service_requests(request: Request, principal: Reader) -> Response:
    parameters = _parameters(request, SERVICE_REQUEST_PARAMETERS)
    conditions = identifier_conditions(parameters)
    async with units_of(request)() as unit:
        total, found = await search_service.referrals_by_identifier(unit, conditions, principal)
    base = base_url(request)
    self_url = f"{base}/fhir/ServiceRequest?{parameters.query()}"
    return FhirResponse(searchset([referral.resource for referral in found], base, self_url, total=total))


@router.get(
    "/Task",
    openapi_extra={"parameters": [*TASK_SEARCH, PREFER]},
    responses=fhir_success(200, "A searchset Bundle: a page of Tasks, oldest change first, and a next link", "Bundle"),
)
async def search_tasks(request: Request, principal: Reader) -> Response:
    parameters = _parameters(request, TASK_PARAMETERS)
    query, count, after = task_query(parameters), page_size(parameters), page_after(parameters)
    async with units_of(request)() as unit:
        page = await search_service.tasks(unit, query, principal, count=count, after=after)
    base = base_url(request)
    tasks = [task_resource(*view) for view in page.tasks]
    next_url = f"{base}/fhir/Task?{parameters.query(_cursor=cursor(page.last))}" if page.more else None
    self_url = f"{base}/fhir/Task?{parameters.query()}"
    return FhirResponse(searchset(tasks, base, self_url, total=page.total, next_url=next_url))
