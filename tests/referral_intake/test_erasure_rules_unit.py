"""What erasure leaves of a referral and its case (domain/erasure.py), tested directly, in milliseconds."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from referral_intake.domain.case import Case, ChangeRequest, Closure, Contact, Extension, Session
from referral_intake.domain.erasure import ERASED, erased_case, erased_resource
from signpost_devstack.synthetic import gp_referral

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_the_erased_service_request_keeps_its_codes_requester_and_ids_but_not_the_patient_or_any_text():
    referral = gp_referral(rng=random.Random(7))
    referral["note"] = [{"text": "Lives with her son"}]
    referral["patientInstruction"] = "Ring after 2pm"
    referral["reasonCode"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "1148770002"}], "text": "sad"}]
    patient = referral["contained"][0]

    erased = erased_resource(referral)

    kept = json.dumps(erased)
    person = [patient["identifier"][0]["value"], patient["name"][0]["family"], patient["birthDate"]]
    person += [patient["telecom"][0]["value"], patient["address"][0]["line"][0]]
    for gone in [*person, "Lives with", "2pm", "sad"]:
        assert gone not in kept, gone
    assert erased["subject"] == {"display": ERASED}
    assert [c["resourceType"] for c in erased["contained"]] == ["Organization"], "the practice stays: requester"
    for element in ("identifier", "status", "intent", "category", "code", "priority", "authoredOn", "requester"):
        assert erased[element] == referral[element], element
    assert erased["reasonCode"] == [{"coding": referral["reasonCode"][0]["coding"]}]


def test_the_erased_case_keeps_its_counts_dates_and_codes_and_replaces_every_free_text():
    case = Case(
        "r-1",
        contacts=(Contact("amira", "telephone", "reached", T0),),
        goals=("Walk with Rosalind's sister", "Cook"),
        sessions=(Session("amira", "walk", T0),),
        extensions=(Extension("See Rosalind's GP", "needs more time", True, 2, "granted", T0),),
        closure=Closure("connected-onward", ("Hyde Park walking group",), "Her son is on 07700 900123", T0, "amira"),
        requests=(ChangeRequest("reassignment", "coordinator", "Rosalind asked for a woman", None, T0),),
    )

    erased = erased_case(case)

    assert "Rosalind" not in repr(erased)
    assert "07700" not in repr(erased)
    assert "Hyde Park" not in repr(erased)
    assert erased.goals == (ERASED, ERASED), "two goals are still two goals"
    assert (erased.status, erased.sessions_used, erased.session_allowance, erased.reached) == (
        case.status, case.sessions_used, case.session_allowance, case.reached)  # fmt: skip
    assert erased.closure is not None
    assert (erased.closure.reason, erased.closure.at, erased.closure.note) == ("connected-onward", T0, None)
    assert erased.contacts == case.contacts
