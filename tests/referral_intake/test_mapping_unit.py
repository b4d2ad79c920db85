"""FHIR ServiceRequest to the minimum-data ReferralReceived event: ages, districts, needs, referrer."""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime

import pytest

from referral_intake.adapters.events import referral_received
from referral_intake.adapters.fhir_contact import contact_card
from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_validation import validate_service_request
from referral_intake.domain.person import age_on
from referral_intake.domain.referral import StoredReferral, accepted
from signpost_contracts.events.referrals import age_band
from signpost_devstack.synthetic import gp_referral

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)


def _read(resource):
    validate_service_request(resource)
    return read_submission(resource, TODAY)


def _event_data(resource):
    submission = _read(resource)
    stored = StoredReferral(
        id="r-1",
        task_id="t-1",
        requester_ods=submission.referrer.ods_code,
        resource=submission.resource,
        received_at=datetime(2025, 6, 1, 9, tzinfo=UTC),
        last_updated=datetime(2025, 6, 1, 9, tzinfo=UTC),
    )
    published = referral_received(accepted(submission, stored), correlation_id="c-1")
    [received] = [event for event in published if event.type == "referral.received.v2"]
    return received.data


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, "0-17"), (17, "0-17"), (18, "18-24"), (24, "18-24"), (64, "55-64"), (65, "65-74"), (74, "65-74"), (85, "85+")],
)
def test_age_bands_follow_the_ons_ranges(age, band):
    assert age_band(age) == band


def test_age_counts_whole_years_up_to_the_birthday():
    assert age_on(date(1950, 6, 2), TODAY) == 74
    assert age_on(date(1950, 6, 1), TODAY) == 75


def test_the_event_carries_age_band_and_district_but_no_birth_date_name_or_address():
    resource = gp_referral(postcode="LS6 2AB", age=72, needs=["loneliness"], rng=random.Random(3), today=TODAY)
    data = _event_data(resource)
    assert data["person"]["age_years"] == 72
    assert data["person"]["age_band"] == "65-74"
    assert data["person"]["postcode_district"] == "LS6"
    flat = str(data)
    patient = resource["contained"][0]
    assert patient["birthDate"] not in flat
    assert patient["name"][0]["family"] not in flat
    assert "2AB" not in flat
    assert patient["identifier"][0]["value"] not in flat, "no NHS number on the event"


def test_needs_come_from_signpost_codes_and_known_snomed_findings_without_repeats():
    resource = gp_referral(needs=["loneliness", "bereavement"], rng=random.Random(4), today=TODAY)
    resource["reasonCode"].append({"coding": [{"system": "http://snomed.info/sct", "code": "422650009"}]})
    resource["reasonCode"].append({"coding": [{"system": "http://snomed.info/sct", "code": "267076002"}]})
    resource["reasonCode"].append({"coding": [{"system": "http://snomed.info/sct", "code": "22298006"}]})  # unknown
    assert _event_data(resource)["needs"] == ["loneliness", "bereavement", "social-isolation"]


def test_risk_flags_and_priority_travel_on_the_event():
    resource = gp_referral(risk_flags=["self-harm-risk"], priority="urgent", rng=random.Random(5), today=TODAY)
    data = _event_data(resource)
    assert data["risk_flags"] == ["self-harm-risk"]
    assert data["priority"] == "urgent"


def _snomed(code: str, text: str) -> dict:
    return {"coding": [{"system": "http://snomed.info/sct", "code": code}], "text": text}


def test_a_gps_ordinary_snomed_coding_of_risks_and_needs_reaches_triage_as_flags_and_categories():
    resource = gp_referral(needs=["loneliness"], rng=random.Random(6), today=TODAY)
    resource["reasonCode"] += [
        _snomed("6471006", "Suicidal thoughts"),
        _snomed("248062006", "Self-injurious behaviour"),
        _snomed("1076171000000104", "Carer behaviour is cause for safeguarding concern"),
        _snomed("32911000", "Homeless"),
        _snomed("224484003", "Patient themselves providing care"),
    ]
    data = _event_data(resource)
    assert data["risk_flags"] == ["suicide-risk", "self-harm-risk", "safeguarding-concern"]
    assert data["needs"] == ["loneliness", "housing", "carer-support"]


def test_an_unknown_snomed_reason_maps_to_nothing_but_is_kept_as_text_for_the_connector():
    resource = gp_referral(needs=[], rng=random.Random(7), today=TODAY)
    resource["reasonCode"] = [_snomed("22298006", "Worried about her neighbour")]
    submission = _read(resource)
    assert (submission.needs, submission.risk_flags) == ((), ())
    assert contact_card(submission.resource).reasons == ("Worried about her neighbour",)


def test_language_and_interpreter_come_from_patient_communication():
    resource = gp_referral(rng=random.Random(6), today=TODAY)
    patient = resource["contained"][0]
    patient["communication"] = [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}},
        {
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "pa"}]},
            "preferred": True,
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSCommunication",
                    "extension": [{"url": "interpreterRequired", "valueBoolean": True}],
                }
            ],
        },
    ]
    patient.pop("extension", None)
    person = _event_data(resource)["person"]
    assert person["preferred_language"] == "pa"
    assert person["interpreter_needed"] is True


def test_the_referrer_is_the_requesting_organisation_and_its_contact_never_the_patients():
    resource = gp_referral(ods_code="B86010", email="gp.referrals@b86010.example.nhs.uk", rng=random.Random(8))
    data = _event_data(resource)
    assert data["referrer"]["ods_code"] == "B86010"
    assert data["referrer"]["kind"] == "gp"
    assert data["referrer"]["contact"]["email"] == "gp.referrals@b86010.example.nhs.uk"
    assert data["referrer"]["contact"]["phone"].startswith("0113")
    assert data["referrer_reference"]["value"] == resource["identifier"][0]["value"]


def test_a_practitioner_role_gives_the_ods_code_of_its_organisation_and_its_own_email_first():
    resource = gp_referral(ods_code="RR8", rng=random.Random(9))
    resource["contained"].append(
        {
            "resourceType": "PractitionerRole",
            "id": "role",
            "organization": {"reference": "#practice"},
            "telecom": [{"system": "email", "value": "dr.ahmed@rr8.example.nhs.uk"}],
        }
    )
    resource["requester"] = {"reference": "#role"}
    referrer = _event_data(resource)["referrer"]
    assert referrer["ods_code"] == "RR8"
    assert referrer["contact"]["email"] == "dr.ahmed@rr8.example.nhs.uk"
    assert referrer["kind"] == "other", "RR8 (a hospital trust) is not a GP practice and no GP specialty is given"


def test_a_requester_identified_only_by_ods_code_is_accepted():
    resource = gp_referral(rng=random.Random(10))
    resource["requester"] = {
        "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "b82005"},
        "display": "Leeds Road Surgery",
    }
    referrer = _event_data(resource)["referrer"]
    assert referrer["ods_code"] == "B82005"
    assert referrer["organisation_name"] == "Leeds Road Surgery"


def test_a_patient_identified_only_by_nhs_number_is_accepted_with_no_demographics():
    resource = gp_referral(rng=random.Random(11))
    nhs_number = resource["contained"][0]["identifier"][0]["value"]
    resource["contained"] = resource["contained"][1:]
    resource["subject"] = {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}}
    submission = _read(resource)
    assert submission.nhs_number == nhs_number
    assert _event_data(resource)["person"]["age_band"] is None


def test_what_is_stored_is_what_was_sent_less_the_client_id_and_meta():
    resource = gp_referral(rng=random.Random(12))
    sent = copy.deepcopy(resource)
    resource["id"] = "client-chosen"
    resource["meta"] = {"lastUpdated": "2020-01-01T00:00:00Z", "profile": ["https://example.org/p"]}
    stored = _read(resource).resource
    assert "id" not in stored
    assert stored["meta"] == {"profile": ["https://example.org/p"]}
    assert {k: v for k, v in stored.items() if k != "meta"} == sent


@pytest.mark.parametrize("seed", range(40))
def test_every_synthetic_demo_referral_is_accepted(seed):
    from signpost_devstack.synthetic import demo_mix

    submission = _read(demo_mix(random.Random(seed)))
    assert submission.referrer.ods_code == "B82005"
    assert submission.nhs_number is not None
