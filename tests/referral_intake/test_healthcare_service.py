"""GET /fhir/HealthcareService and /who-we-help: who the service is for and whether it has room, from triage's
newest service.status.v1 (in any order, any number of times), public, with nothing about any referral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.healthcareservice import HealthcareService

from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.triage import ServiceStatus
from signpost_contracts.registry import SERVICE_SUBJECT

pytestmark = pytest.mark.integration

CAPACITY = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus"
)
NOW = datetime.now(UTC).replace(microsecond=0)


def status_event(at: datetime, **fields: Any) -> EventEnvelope:
    values: dict[str, Any] = {
        "as_of": at,
        "policy_version": "leeds-1",
        "area_name": "Leeds",
        "postcode_prefixes": ["LS"],
        "age_minimum": 18,
        "age_maximum": None,
        "cohorts": [],
        "exclusions": [],
        "capacity": "capacity",
        "places_free": 4,
        "waiting": 0,
        "typical_wait_days": None,
    }
    return new_event(ServiceStatus(**{**values, **fields}), subject=SERVICE_SUBJECT, correlation_id="status")


def capacity_of(service: dict[str, Any]) -> tuple[str, str]:
    [extension] = [e for e in service["extension"] if e["url"] == CAPACITY]
    parts = {part["url"]: part for part in extension["extension"]}
    return parts["capacityStatus"]["valueCodeableConcept"]["coding"][0]["code"], parts["capacityNotes"]["valueString"]


async def test_before_triage_has_described_the_service_the_search_is_empty_and_the_page_says_so(intake):
    search = await intake.client.get("/fhir/HealthcareService")
    read = await intake.client.get("/fhir/HealthcareService/community-connectors")
    page = await intake.client.get("/who-we-help")
    assert (search.status_code, search.json()["total"]) == (200, 0)
    assert read.status_code == 404
    assert "being brought up to date" in page.text


async def test_the_newest_status_is_served_whatever_order_the_events_arrive_in_and_needs_no_token(intake):
    waiting = status_event(
        NOW + timedelta(seconds=2),
        capacity="waitlist",
        places_free=0,
        waiting=7,
        typical_wait_days=12.4,
        age_maximum=95,
        cohorts=["people who have been bereaved", "people caring for someone"],
        exclusions=["People in LS29 are supported by the Otley outreach service; please refer to them."],
    )
    older = status_event(NOW)
    await intake.apply(waiting, older, waiting)  # the newer first, then an older one, then a repeat

    search = await intake.client.get("/fhir/HealthcareService")
    read = await intake.client.get("/fhir/HealthcareService/community-connectors")
    page = await intake.client.get("/who-we-help")

    assert search.status_code == 200, search.text
    assert search.headers["content-type"].startswith("application/fhir+json")
    [entry] = search.json()["entry"]
    assert entry["fullUrl"].endswith("/fhir/HealthcareService/community-connectors")
    service = read.json()
    assert entry["resource"] == service
    HealthcareService.model_validate(service)
    assert capacity_of(service) == (
        "waitlist",
        "All connectors are busy: 7 people are on the waiting list; the typical wait recently was about 12 days.",
    )
    [who, not_for] = service["eligibility"]
    assert who["comment"] == (
        "Adults aged 18 to 95 living in Leeds (postcodes LS), who are people who have been bereaved;"
        " or people caring for someone."
    )
    assert "Otley outreach" in not_for["comment"]
    assert service["meta"]["lastUpdated"].startswith((NOW + timedelta(seconds=2)).isoformat()[:19])

    assert page.status_code == 200
    for words in ("Who we help in Leeds", "7 people are on the waiting list", "people caring for someone", "Otley"):
        assert words in page.text


async def test_the_status_says_when_no_one_is_taking_new_referrals(intake):
    await intake.apply(status_event(NOW + timedelta(seconds=5), capacity="no-capacity", places_free=0, waiting=2))
    service = (await intake.client.get("/fhir/HealthcareService/community-connectors")).json()
    assert capacity_of(service) == ("no-capacity", "No connector is taking new referrals just now.")
    unknown = await intake.client.get("/fhir/HealthcareService/another-service")
    assert unknown.status_code == 404
