"""Who may read a referral's deliveries: another organisation's referral looks exactly like an unknown one."""

from __future__ import annotations

import uuid

import pytest

from support.auth import bearer, token
from support.events import referral_assigned, referral_received, referral_received_v2

pytestmark = pytest.mark.integration

STAFF = bearer("notifications:read", "referrals:read-all", ods=None)
OWN = bearer("notifications:read", ods="B82005")  # the referrer's organisation in support.events
OTHER = bearer("notifications:read", ods="Y12345")


async def test_another_organisations_referral_gets_the_same_404_as_a_referral_that_does_not_exist(service, referral_id):
    await service.publish(referral_received(referral_id), referral_assigned(referral_id))
    await service.emails(1)

    others = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=OTHER)
    never_seen = str(uuid.uuid4())
    unknown = await service.client.get("/deliveries", params={"referral_id": never_seen}, headers=OTHER)

    assert others.status_code == unknown.status_code == 404
    assert others.headers["content-type"] == unknown.headers["content-type"]
    assert others.text.replace(referral_id, "<id>") == unknown.text.replace(never_seen, "<id>")
    own = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=OWN)
    assert own.status_code == 200
    assert len(own.json()["deliveries"]) == 1
    staff = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=STAFF)
    assert staff.json() == own.json()


async def test_a_referral_whose_details_have_not_arrived_is_visible_to_staff_only(service, referral_id):
    outcome = referral_assigned(referral_id)
    await service.publish(outcome)
    await service.consumed(outcome)

    for caller in (OWN, OTHER):
        response = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=caller)
        assert response.status_code == 404, "whose referral it is cannot be known yet"
    staff = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=STAFF)
    assert staff.status_code == 200
    assert staff.json() == {"referral_id": referral_id, "deliveries": []}
    nothing = await service.client.get("/deliveries", params={"referral_id": str(uuid.uuid4())}, headers=STAFF)
    assert nothing.status_code == 404


async def test_a_partner_without_an_ods_code_reads_its_own_referrals_deliveries_by_its_org_claim(service, referral_id):
    await service.publish(referral_received_v2(referral_id), referral_assigned(referral_id))  # from leeds-mind
    await service.emails(1)

    leeds_mind = {"Authorization": f"Bearer {token('notifications:read', ods=None, org='leeds-mind')}"}
    another = {"Authorization": f"Bearer {token('notifications:read', ods=None, org='chapeltown-housing')}"}
    own = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=leeds_mind)
    theirs = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=another)

    assert own.status_code == 200, own.text
    assert [d["recipient"] for d in own.json()["deliveries"]] == ["referrals@leedsmind.example.org"]
    assert theirs.status_code == 404
