"""Intake's use cases on a fake unit of work: the rules, in milliseconds, without PostgreSQL."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date

import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.domain.referral import ReferralSubmission
from referral_intake.service import DuplicateRequestError, IntakeService
from referral_intake.triage_facts import TriageFacts
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import AuthError, Principal
from support.events import referral_assigned, referral_triaged
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

ODS = "B82005"
WRITER = Principal(subject="gp-system", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code=ODS)
service = IntakeService()


def _submission(ods: str = ODS) -> ReferralSubmission:
    body = json.dumps(gp_referral(rng=random.Random(), ods_code=ods)).encode()
    return submission_from_body(body, max_depth=64, today=date.today())


async def test_a_new_referral_is_stored_and_announced_once():
    unit = FakeIntakeUnit()
    submitted = await service.submit(unit, _submission(), WRITER, correlation_id="c-1")

    assert submitted.created
    assert [e.type for e in unit.events] == ["referral.received.v2"]
    assert unit.events[0].subject == submitted.referral.id
    assert unit.events[0].correlationid == "c-1"


async def test_the_same_identifier_again_returns_the_first_referral_and_announces_nothing():
    unit, submission = FakeIntakeUnit(), _submission()
    first = await service.submit(unit, submission, WRITER, correlation_id=None)
    again = await service.submit(unit, submission, WRITER, correlation_id=None)

    assert not again.created
    assert again.referral.id == first.referral.id
    assert len(unit.events) == 1


async def test_the_same_request_id_again_is_a_duplicate_naming_the_first_referral():
    unit, request_id = FakeIntakeUnit(), str(uuid.uuid4())
    first = await service.submit(unit, _submission(), WRITER, None, request_id)
    with pytest.raises(DuplicateRequestError) as duplicate:
        await service.submit(unit, _submission(), WRITER, None, request_id)
    assert duplicate.value.referral_id == first.referral.id


async def test_a_sender_without_an_organisation_is_refused_whatever_route_calls_the_use_case():
    unit = FakeIntakeUnit()
    nobody = Principal(subject="svc", scopes=frozenset({"referrals:write"}), ods_code=None)
    with pytest.raises(AuthError) as refused:
        await service.submit(unit, _submission(), nobody, correlation_id=None)
    assert refused.value.status_code == 403
    assert "`ods` claim" in refused.value.message
    assert unit.referrals.by_id == {}
    assert unit.events == []


async def test_another_organisation_reads_nothing_as_if_the_referral_did_not_exist():
    unit = FakeIntakeUnit()
    stored = (await service.submit(unit, _submission(), WRITER, None)).referral
    other = Principal(subject="x", scopes=frozenset({"referrals:read"}), ods_code="Y12345")
    staff = Principal(subject="ops", scopes=frozenset({"referrals:read", "referrals:read-all"}), ods_code=None)

    assert await service.referral(unit, stored.id, other) is None
    assert await service.task(unit, stored.task_id, other) is None
    assert await service.referral(unit, stored.id, staff) == stored


async def test_the_task_follows_triage_whatever_order_its_events_arrive_in():
    unit = FakeIntakeUnit()
    stored = (await service.submit(unit, _submission(), WRITER, None)).referral
    await TriageFacts().record_assignment(unit, referral_assigned(stored.id))
    await TriageFacts().record_triage(unit, referral_triaged(stored.id, "accepted"))

    found = await service.task_for_referral(unit, stored.id, WRITER)
    assert found is not None
    assert (found[1].status, found[1].business_status) == ("accepted", "assigned")


HUB = Principal(
    subject="icb-integration-engine",
    scopes=frozenset({"referrals:write-on-behalf", "referrals:read"}),
    ods_code="QWO",
)


async def test_an_intermediary_sends_for_any_practice_and_is_recorded_as_the_sender():
    unit = FakeIntakeUnit()
    submitted = await service.submit(unit, _submission(ods="C84001"), HUB, correlation_id=None)

    assert submitted.referral.requester_ods == "C84001"
    assert unit.events[0].data["sender"] == {"system": "icb-integration-engine", "ods_code": "QWO"}
    assert await service.referral(unit, submitted.referral.id, HUB) == submitted.referral, "it follows what it sent"


async def test_an_intermediary_with_an_allow_list_may_not_send_for_a_practice_outside_it():
    unit = FakeIntakeUnit()
    listed = Principal(subject="hub", scopes=HUB.scopes, ods_code=None, on_behalf_of=frozenset({"A81001"}))
    with pytest.raises(AuthError) as refused:
        await service.submit(unit, _submission(ods="C84001"), listed, correlation_id=None)
    assert refused.value.status_code == 403
    assert "A81001 only" in refused.value.message
    assert unit.events == []


async def test_a_practice_sending_for_itself_has_no_sender_recorded_and_may_not_send_for_another():
    unit = FakeIntakeUnit()
    await service.submit(unit, _submission(), WRITER, correlation_id=None)
    assert unit.events[0].data["sender"] is None
    with pytest.raises(AuthError):
        await service.submit(unit, _submission(ods="C84001"), WRITER, correlation_id=None)
