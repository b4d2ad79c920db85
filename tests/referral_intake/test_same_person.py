"""The same person referred again is recognisable by a keyed hash, never the NHS number; `replaces` links
to an earlier referral of the same organisation and is otherwise ignored."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from referral_intake.config import IntakeSettings
from referral_intake.domain.person import DEVELOPMENT_PERSON_KEY_SECRET
from support.auth import bearer

pytestmark = pytest.mark.integration


def _nhs_number(body: dict) -> str:
    return body["contained"][0]["identifier"][0]["value"]


async def _received(intake, body: dict) -> dict:
    created = await intake.post(body)
    assert created.status_code == 201, created.text
    [event] = await intake.published(created.json()["id"])
    return {"id": created.json()["id"], **event}


async def test_referral_received_carries_a_keyed_hash_of_the_nhs_number_the_same_for_the_same_person(intake, make):
    first = make.referral()
    again = make.referral()
    again["contained"][0]["identifier"] = first["contained"][0]["identifier"]

    one, two = await _received(intake, first), await _received(intake, again)

    expected = hmac.new(DEVELOPMENT_PERSON_KEY_SECRET.encode(), _nhs_number(first).encode(), hashlib.sha256)
    assert one["person_key"] == two["person_key"] == expected.hexdigest()
    assert _nhs_number(first) not in json.dumps(one)
    anonymous = make.referral()
    del anonymous["contained"][0]["identifier"]
    assert (await _received(intake, anonymous))["person_key"] is None


async def test_replaces_links_an_earlier_referral_of_the_same_organisation_and_ignores_any_other(intake, make):
    earlier = (await _received(intake, make.referral()))["id"]
    other_practice = bearer("referrals:write", "referrals:read", ods="B86010")
    elsewhere = (await intake.post(make.referral(ods_code="B86010"), headers=other_practice)).json()["id"]
    body = make.referral()
    body["replaces"] = [{"reference": "ServiceRequest/not-one-of-ours"}, {"reference": f"ServiceRequest/{earlier}"}]
    assert (await _received(intake, body))["replaces_referral_id"] == earlier

    absolute = make.referral()
    absolute["replaces"] = [{"reference": f"https://gp.example/fhir/ServiceRequest/{earlier}/_history/1"}]
    assert (await _received(intake, absolute))["replaces_referral_id"] == earlier
    unknown = make.referral()
    unknown["replaces"] = [{"reference": "ServiceRequest/9b1d0c1e-0000-4000-8000-000000000000"}]
    assert (await _received(intake, unknown))["replaces_referral_id"] is None
    another_organisations = make.referral()
    another_organisations["replaces"] = [{"reference": f"ServiceRequest/{elsewhere}"}]
    assert (await _received(intake, another_organisations))["replaces_referral_id"] is None


@pytest.mark.unit
def test_production_refuses_to_start_with_the_development_person_key_and_a_short_key_anywhere():
    with pytest.raises(ValueError, match="PERSON_KEY_SECRET is not set"):
        IntakeSettings(environment="production")
    with pytest.raises(ValueError, match="shorter than 32"):
        IntakeSettings(person_key_secret="too-short")
    assert IntakeSettings(environment="production", person_key_secret="k" * 64).environment == "production"
