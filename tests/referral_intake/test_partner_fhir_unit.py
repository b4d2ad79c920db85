"""A partner organisation without an ODS code refers through FHIR REST: its requester is an Organization identified
by its partner id (system https://signpost.dev/fhir/Id/partner-organisation), and its token carries the same id."""

from __future__ import annotations

import random

import pytest

from referral_intake.adapters.codes import PARTNER_ORGANISATION
from signpost_devstack.synthetic import gp_referral
from support.auth import token
from support.fakes.intake import FakeIntakeUnit
from support.intake_app import client_on_fake

pytestmark = pytest.mark.unit
FHIR = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@pytest.fixture
def unit() -> FakeIntakeUnit:
    return FakeIntakeUnit()


@pytest.fixture
async def client(unit):
    async with client_on_fake(unit) as client:
        yield client


def partner_referral(partner_id: str = "leeds-mind") -> dict:
    body = gp_referral(rng=random.Random())
    body["requester"] = {"identifier": {"system": PARTNER_ORGANISATION, "value": partner_id}, "display": "Mind"}
    return body


def partner_token(org: str | None, *scopes: str) -> dict[str, str]:
    bearer = token(*scopes or ("referrals:write", "referrals:read"), ods=None, subject="sam", org=org)
    return {**FHIR, "Authorization": f"Bearer {bearer}"}


async def test_a_partners_fhir_referral_is_held_as_the_registered_partners(client, unit):
    created = await client.post("/fhir/ServiceRequest", json=partner_referral(), headers=partner_token("leeds-mind"))

    assert created.status_code == 201, created.text
    [event] = [e.data for e in unit.events if e.type == "referral.received.v2"]
    assert (event["channel"], event["referrer"]["partner_id"]) == ("fhir-rest", "leeds-mind")
    assert event["referrer"]["kind"] == "community-organisation"
    assert event["referrer"]["organisation_name"] == "Leeds Mind"  # the registered name, not the display sent
    assert event["referrer"]["contact"]["email"] == "referrals@leedsmind.example.org"
    read = await client.get(
        created.headers["Location"].removeprefix("http://testserver"), headers=partner_token("leeds-mind")
    )
    assert read.status_code == 200


async def test_another_partner_can_neither_send_for_it_nor_read_its_referral(client, unit):
    refused = await client.post(
        "/fhir/ServiceRequest", json=partner_referral(), headers=partner_token("chapeltown-housing")
    )
    created = await client.post("/fhir/ServiceRequest", json=partner_referral(), headers=partner_token("leeds-mind"))
    unread = await client.get(
        created.headers["Location"].removeprefix("http://testserver"), headers=partner_token("chapeltown-housing")
    )

    assert refused.status_code == 403
    assert "partner leeds-mind" in refused.text
    assert unread.status_code == 404


async def test_an_unregistered_partner_is_refused_naming_the_register(client, unit):
    refused = await client.post(
        "/fhir/ServiceRequest", json=partner_referral("nobody"), headers=partner_token("nobody")
    )

    assert refused.status_code == 403
    assert "PARTNERS_FILE" in refused.text
    assert [e for e in unit.events if e.type == "referral.received.v2"] == []
