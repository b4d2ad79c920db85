"""Valid and nearly valid ServiceRequests the FHIR fuzzer starts from.

Two families: Signpost's own synthetic GP referrals (accepted as they are), and the ServiceRequests
of the real NHS BaRS referral messages in shared/fhir-examples, made standalone the way a REST client
sends them (every resource they reference contained, references made local). The BaRS ones are
referrals to other services, so each also comes re-aimed at social prescribing, which intake takes.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import date
from functools import cache
from typing import Any

from signpost_devstack.synthetic import gp_referral
from support.fhir_examples import fhir_examples

JsonObject = dict[str, Any]

SNOMED = "http://snomed.info/sct"
BARS_USE_CASES = "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
SOCIAL_PRESCRIBING = {"system": SNOMED, "code": "871731000000106", "display": "Referral to social prescribing service"}

ODS = "B82005"  # the organisation of the practice tokens; the synthetic referrals come from it
BARS_SENDER_ODS = "Y03641"  # given to a BaRS sender's organisation that has no ODS code in the example
SEED_DAY = date(2025, 3, 14)  # fixed, so every seed (authoredOn included) is the same on every run


def synthetic_referrals() -> list[JsonObject]:
    """Synthetic GP referrals of every shape gp_referral makes: needs, risks, priorities, areas, languages."""
    variants: list[dict[str, Any]] = [
        {},
        {"priority": "urgent"},
        {"risk_flags": ["self-harm-risk"], "needs": ["low-mood"]},
        {"risk_flags": ["safeguarding-concern", "domestic-abuse"], "needs": ["housing", "financial-worries"]},
        {"postcode": "M1 1AE", "needs": ["bereavement"]},
        {"age": 17, "needs": []},
        {"age": 104, "needs": ["carer-support", "physical-inactivity", "loneliness"]},
        {"email": "gp.referrals@nhs.example.net", "needs": ["mental-health-crisis"]},
    ]
    return [
        gp_referral(rng=random.Random(seed), ods_code=ODS, today=SEED_DAY, **variant)
        for seed, variant in enumerate(variants)
    ]


@cache
def bars_service_requests() -> tuple[JsonObject, ...]:
    """Each BaRS REFREQ message's ServiceRequest, standalone as sent by REST."""
    paths = sorted(fhir_examples("bars-messages").glob("REFREQ*.json"))
    assert len(paths) >= 9, f"expected the BaRS REFREQ examples in {fhir_examples('bars-messages')}"
    return tuple(standalone(json.loads(path.read_text(encoding="utf-8"))) for path in paths)


def bars_referrals() -> list[JsonObject]:
    """The BaRS ServiceRequests as they are (another service's referrals), and each re-aimed at Signpost."""
    originals = [copy.deepcopy(request) for request in bars_service_requests()]
    return originals + [as_social_prescribing(request, index) for index, request in enumerate(originals)]


def standalone(bundle: JsonObject) -> JsonObject:
    """The message's ServiceRequest with everything it references, directly or not, contained (FHIR dom-2
    allows one level only, so all of them sit in the ServiceRequest's own `contained`)."""
    entries = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    [request] = [r for r in entries.values() if r["resourceType"] == "ServiceRequest"]
    request = copy.deepcopy(request)
    local_ids: dict[str, str] = {}
    contained: list[JsonObject] = []

    def localise(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                localise(item)
        elif isinstance(node, dict):
            target = node.get("reference")
            if isinstance(target, str) and target in entries and entries[target] is not request:
                if target not in local_ids:
                    local_ids[target] = f"r{len(local_ids) + 1}"
                    resource = copy.deepcopy(entries[target])
                    resource["id"] = local_ids[target]
                    resource.pop("contained", None)
                    contained.append(resource)
                    localise(resource)
                node["reference"] = f"#{local_ids[target]}"
            for key, value in node.items():
                if key != "reference":
                    localise(value)

    requester = (request.get("requester") or {}).get("reference")
    localise(request)
    # BaRS names the requesting practitioner; their role (and through it their organisation) references
    # them rather than the other way round, so it is brought along too.
    roles = [r for r in entries.values() if r["resourceType"] == "PractitionerRole"]
    localise([{"reference": url} for url, r in entries.items() if r in roles and _practitioner(r) == requester])
    request["contained"] = contained
    return request


def _practitioner(role: JsonObject) -> str | None:
    return (role.get("practitioner") or {}).get("reference")


def as_social_prescribing(request: JsonObject, index: int) -> JsonObject:
    """The BaRS referral sent to Signpost instead: social prescribing code, no BaRS use case, a referral
    identifier, a valid NHS number, and the requester as the practitioner's role at an organisation with an ODS code."""
    request = copy.deepcopy(request)
    request["code"] = {"coding": [dict(SOCIAL_PRESCRIBING)]}
    request["intent"] = "order"
    for concept in request.get("category") or []:
        concept["coding"] = [c for c in concept.get("coding") or [] if c.get("system") != BARS_USE_CASES]
    request["category"] = [c for c in request.get("category") or [] if c.get("coding")]
    request["identifier"] = [{"system": "https://bars.example.nhs.uk/Id/referral", "value": f"bars-{index}"}]
    for resource in request["contained"]:
        if resource["resourceType"] == "Patient":
            # The examples' NHS number fails Modulus 11; this one is from the 999 test range.
            resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": "9990743916"}]
    role = _requesting_role(request)
    if role is not None:
        request["requester"] = {"reference": f"#{role['id']}"}
    return request


def _requesting_role(request: JsonObject) -> JsonObject | None:
    """The requesting practitioner's role, its organisation given an ODS code when the example has none."""
    contained = {resource.get("id"): resource for resource in request["contained"]}
    for role in request["contained"]:
        if role["resourceType"] != "PractitionerRole" or _practitioner(role) != request["requester"]["reference"]:
            continue
        organisation = contained.get(str((role.get("organization") or {}).get("reference", "")).lstrip("#"))
        if organisation is None:
            continue
        identifiers = organisation.setdefault("identifier", [])
        if not any(str(i.get("system", "")).lower() == ODS_SYSTEM.lower() and i.get("value") for i in identifiers):
            identifiers.append({"system": ODS_SYSTEM, "value": BARS_SENDER_ODS})
        return role
    return None
