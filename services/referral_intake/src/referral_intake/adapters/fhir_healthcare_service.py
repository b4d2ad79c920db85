"""The service as a FHIR R4 HealthcareService: who it is for, how to refer, and whether it has room.

Built from the newest service.status.v1 (triage's aggregates; nothing about any referral or person).
Capacity travels in the Gravity SDOH Clinical Care IG's HealthcareService capacity extension
(SDOHCC-ExtensionHealthcareServiceCapacityStatus: a `capacityStatus` CodeableConcept from
SDOHCC-CodeSystemTemporaryCodes and `capacityNotes`, the waiting figures in words).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.healthcareservice import HealthcareService

from signpost_contracts.events.triage import ServiceStatus

HEALTHCARE_SERVICE_ID = "community-connectors"
CAPACITY_EXTENSION = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacityStatus"
)
SDOHCC_CODES = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
CAPACITY_DISPLAY = {"capacity": "Has Capacity", "no-capacity": "No Capacity", "waitlist": "No Capacity - Has Waitlist"}
# HL7's service-referral-method code system: "elec" is secure electronic messaging (FHIR REST and BaRS).
REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"


def age_range(status: ServiceStatus) -> str:
    if status.age_maximum is None:
        return f"aged {status.age_minimum} and over"
    return f"aged {status.age_minimum} to {status.age_maximum}"


def area_words(status: ServiceStatus) -> str:
    return f"{status.area_name} (postcodes {', '.join(status.postcode_prefixes)})"


def waiting_words(status: ServiceStatus) -> str:
    """The capacity notes: what a referrer deciding whether to refer wants to know, in one sentence."""
    if status.capacity == "capacity":
        return "A connector can take a new referral now."
    if status.capacity == "no-capacity":
        return "No connector is taking new referrals just now."
    people = "1 person is" if status.waiting == 1 else f"{status.waiting} people are"
    wait = status.typical_wait_days
    typical = "" if wait is None else f"; the typical wait recently was about {_days(wait)}"
    return f"All connectors are busy: {people} on the waiting list{typical}."


def _days(days: float) -> str:
    whole = max(round(days), 1)
    return "1 day" if whole == 1 else f"{whole} days"


def _eligibility(status: ServiceStatus) -> list[dict[str, Any]]:
    who = f"Adults {age_range(status)} living in {area_words(status)}"
    if status.cohorts:
        who += ", who are " + "; or ".join(status.cohorts)
    entries = [{"code": {"text": "Who the service is for"}, "comment": who + "."}]
    entries += [{"code": {"text": "Not for"}, "comment": exclusion} for exclusion in status.exclusions]
    return entries


def healthcare_service(status: ServiceStatus, base_url: str) -> dict[str, Any]:
    service = HealthcareService.model_validate(
        {
            "resourceType": "HealthcareService",
            "id": HEALTHCARE_SERVICE_ID,
            "meta": {"lastUpdated": status.as_of.isoformat()},
            "extension": [
                {
                    "url": CAPACITY_EXTENSION,
                    "extension": [
                        {
                            "url": "capacityStatus",
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": SDOHCC_CODES,
                                        "code": status.capacity,
                                        "display": CAPACITY_DISPLAY[status.capacity],
                                    }
                                ]
                            },
                        },
                        {"url": "capacityNotes", "valueString": waiting_words(status)},
                    ],
                }
            ],
            "active": True,
            "name": f"Community connectors ({status.area_name})",
            "type": [{"text": "Social prescribing: community connectors for people who feel alone or isolated"}],
            "comment": (
                "Support from a community connector: a conversation about what matters to the person, their own"
                " goals, a few sessions, and introductions to groups and services nearby."
            ),
            "coverageArea": [{"display": area_words(status)}],
            "eligibility": _eligibility(status),
            "referralMethod": [
                {
                    "coding": [{"system": REFERRAL_METHOD, "code": "elec", "display": "Secure Messaging"}],
                    "text": f"FHIR R4 ServiceRequest to {base_url}/fhir/ServiceRequest",
                }
            ],
            "appointmentRequired": False,
        }
    )
    result: dict[str, Any] = service.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result
