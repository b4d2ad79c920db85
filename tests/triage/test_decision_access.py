"""A triage decision is the referring organisation's record: another organisation sees only a 404."""

from __future__ import annotations

import uuid

import httpx
import pytest

from signpost_contracts.events.referrals import PersonSummary, Referrer
from signpost_contracts.vocabulary import Scope
from support.auth import bearer, token
from support.events import referral_received, referral_received_v2
from support.infra import publish, wait_until
from support.services import serving

pytestmark = pytest.mark.integration

STAFF = bearer(Scope.TRIAGE_READ, Scope.READ_ALL, ods=None)
LEEDS_ROAD = bearer(Scope.TRIAGE_READ, ods="B82005")
ELSEWHERE = bearer(Scope.TRIAGE_READ, ods="A81001")


def _as_seen(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.content


async def _decided(client: httpx.AsyncClient, referral_id: str) -> None:
    async def check() -> bool:
        return (await client.get(f"/decisions/{referral_id}", headers=STAFF)).status_code == 200

    await wait_until(check, message=f"the decision on {referral_id}")


async def test_another_organisations_decision_is_answered_exactly_as_an_unknown_one(
    triage_app, write_roster, make_connector, namespace
):
    crisis = referral_received(risk_flags=["self-harm-risk"])  # from B82005, the builder's practice
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        before_it_existed = await client.get(f"/decisions/{crisis.subject}", headers=ELSEWHERE)
        await publish(namespace, [crisis])
        await _decided(client, crisis.subject)
        other_organisation = await client.get(f"/decisions/{crisis.subject}", headers=ELSEWHERE)
        own_organisation = await client.get(f"/decisions/{crisis.subject}", headers=LEEDS_ROAD)
        staff = await client.get(f"/decisions/{crisis.subject}", headers=STAFF)

    assert before_it_existed.status_code == 404
    assert _as_seen(other_organisation) == _as_seen(before_it_existed)
    assert own_organisation.status_code == 200
    assert own_organisation.json()["outcome"] == "redirected"
    assert own_organisation.json()["requester_ods"] == "B82005"
    assert [rule["rule_id"] for rule in own_organisation.json()["rules_fired"]] == ["crisis"]
    assert staff.status_code == 200
    assert staff.json() == own_organisation.json()


async def test_an_unknown_id_and_another_organisations_referral_give_the_same_404(
    triage_app, write_roster, make_connector, namespace
):
    theirs = referral_received(referrer=Referrer(kind="gp", ods_code="A81001"))
    unknown = str(uuid.uuid4())
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        await publish(namespace, [theirs])
        await _decided(client, theirs.subject)
        not_yours = await client.get(f"/decisions/{theirs.subject}", headers=LEEDS_ROAD)
        missing = await client.get(f"/decisions/{unknown}", headers=LEEDS_ROAD)
        no_organisation = await client.get(f"/decisions/{theirs.subject}", headers=bearer(Scope.TRIAGE_READ, ods=None))
        theirs_to_them = await client.get(f"/decisions/{theirs.subject}", headers=ELSEWHERE)

    assert not_yours.status_code == missing.status_code == no_organisation.status_code == 404
    assert not_yours.content == missing.content.replace(unknown.encode(), theirs.subject.encode())
    assert sorted(not_yours.headers.items()) == sorted(missing.headers.items())
    assert no_organisation.content == not_yours.content
    assert theirs_to_them.status_code == 200


async def test_a_decision_on_a_referral_that_named_no_organisation_is_read_only_by_staff(
    triage_app, write_roster, make_connector, namespace
):
    self_referral = referral_received(
        channel="self-referral",
        referrer=Referrer(kind="self"),
        person=PersonSummary(age_years=40, age_band="35-44", postcode_district="LS6"),
    )
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        await publish(namespace, [self_referral])
        await _decided(client, self_referral.subject)
        practice = await client.get(f"/decisions/{self_referral.subject}", headers=LEEDS_ROAD)
        anonymous_practice = await client.get(
            f"/decisions/{self_referral.subject}", headers=bearer(Scope.TRIAGE_READ, ods=None)
        )
        staff = await client.get(f"/decisions/{self_referral.subject}", headers=STAFF)

    assert practice.status_code == anonymous_practice.status_code == 404
    assert staff.status_code == 200
    assert staff.json()["requester_ods"] is None


async def test_a_partner_without_an_ods_code_reads_its_own_referrals_decision_by_its_org_claim(
    triage_app, write_roster, make_connector, namespace
):
    partners = referral_received_v2()  # from leeds-mind, through the referral form
    leeds_mind = {"Authorization": f"Bearer {token(Scope.TRIAGE_READ, ods=None, org='leeds-mind')}"}
    another_partner = {"Authorization": f"Bearer {token(Scope.TRIAGE_READ, ods=None, org='chapeltown-housing')}"}
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        await publish(namespace, [partners])
        await _decided(client, partners.subject)
        own = await client.get(f"/decisions/{partners.subject}", headers=leeds_mind)
        theirs = await client.get(f"/decisions/{partners.subject}", headers=another_partner)
        practice = await client.get(f"/decisions/{partners.subject}", headers=LEEDS_ROAD)

    assert own.status_code == 200, own.text
    assert (own.json()["requester_partner"], own.json()["requester_ods"]) == ("leeds-mind", None)
    assert theirs.status_code == practice.status_code == 404


async def test_the_roster_and_policy_are_not_an_organisations_records(triage_app, write_roster, make_connector):
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        roster = await client.get("/roster", headers=bearer(Scope.TRIAGE_READ, ods=None))
        policy = await client.get("/policy", headers=ELSEWHERE)
    assert (roster.status_code, policy.status_code) == (200, 200)
