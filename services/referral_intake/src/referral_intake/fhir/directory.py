"""GET /fhir/HealthcareService: the service in the directory sense, public like /fhir/metadata.

It holds aggregates only (who the service is for, room and waiting figures), so it needs no token: a
referrer's system, or anyone, may ask before referring. Until triage has published its first status
(seconds after it starts) there is nothing to describe: the search is empty and a read is 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from referral_intake.adapters.fhir_healthcare_service import HEALTHCARE_SERVICE_ID, healthcare_service
from referral_intake.adapters.fhir_http import FhirResponse, base_url
from referral_intake.adapters.fhir_negotiation import negotiate
from referral_intake.adapters.fhir_openapi import fhir_success, outcome_responses
from referral_intake.adapters.fhir_searchset import searchset
from referral_intake.fhir.routes import not_found, units_of
from signpost_contracts.events.triage import ServiceStatus

router = APIRouter(
    prefix="/fhir",
    tags=["FHIR"],
    dependencies=[Depends(negotiate)],
    default_response_class=FhirResponse,
    responses=outcome_responses(406),
)


async def current_status(request: Request) -> ServiceStatus | None:
    async with units_of(request)(readonly=True) as unit:
        return await unit.service_status.current()


@router.get(
    "/HealthcareService",
    responses={
        **fhir_success(200, "A searchset Bundle with the service, once triage has described it", "Bundle"),
        **outcome_responses(400, 503),
    },
)
async def search_healthcare_services(request: Request) -> Response:
    status = await current_status(request)
    base = base_url(request)
    services = [healthcare_service(status, base)] if status else []
    return FhirResponse(searchset(services, base, str(request.url)))


@router.get(
    "/HealthcareService/{service_id}",
    responses={
        **fhir_success(200, "The service: who it is for, how to refer, and its capacity", "HealthcareService"),
        **outcome_responses(400, 404, 503),
    },
)
async def read_healthcare_service(service_id: str, request: Request) -> Response:
    status = await current_status(request)
    if status is None or service_id != HEALTHCARE_SERVICE_ID:
        raise not_found("HealthcareService", service_id)
    return FhirResponse(healthcare_service(status, base_url(request)))
