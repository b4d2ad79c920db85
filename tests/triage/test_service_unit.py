"""Triage's use case on a fake unit of work: decide, place, announce, once; in milliseconds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from support.fakes.triage import FakeTriageUnit
from triage.adapters.events import Cause
from triage.domain.assignment import ConnectorLoad
from triage.domain.referral import ReferralFacts
from triage.service import TriageService

pytestmark = pytest.mark.unit


def _facts(**overrides) -> ReferralFacts:
    values = {"referral_id": str(uuid.uuid4()), "received_at": datetime.now(UTC), "age_years": 70}
    return ReferralFacts.of(**{"postcode_district": "LS6", **values, **overrides})


def _cause() -> Cause:
    return Cause(event_id=str(uuid.uuid4()), correlation_id="c-1")


def _paid(connector_id: str, capacity: int = 1) -> ConnectorLoad:
    return ConnectorLoad(id=connector_id, kind="paid", areas=("LS6",), capacity=capacity, caseload=0)


async def test_an_accepted_referral_takes_a_place_and_announces_its_decision_and_assignment(policy):
    unit = FakeTriageUnit(_paid("amira"))
    facts = _facts(needs=["loneliness", "bereavement", "low-mood"])  # medium complexity: paid staff
    await TriageService(policy).triage(unit, facts, _cause())

    assert unit.assigned_to(facts.referral_id) == "amira"
    assert unit.roster.connectors["amira"].caseload == 1
    assert [e.type for e in unit.events] == ["referral.triaged.v1", "referral.assigned.v1"]
    assert {e.causationid for e in unit.events} == {unit.events[0].causationid}


async def test_the_same_referral_delivered_under_another_event_id_changes_nothing(policy):
    unit = FakeTriageUnit(_paid("amira", capacity=5))
    facts = _facts()
    await TriageService(policy).triage(unit, facts, _cause())
    await TriageService(policy).triage(unit, facts, _cause())

    assert unit.roster.connectors["amira"].caseload == 1
    assert len(unit.events) == 2


async def test_with_no_room_the_referral_waits_and_no_caseload_moves(policy):
    full = ConnectorLoad(id="amira", kind="paid", areas=("LS6",), capacity=1, caseload=1)
    unit = FakeTriageUnit(full)
    facts = _facts(needs=["loneliness", "bereavement", "low-mood"])
    await TriageService(policy).triage(unit, facts, _cause())

    assert unit.assigned_to(facts.referral_id) is None
    assert unit.roster.connectors["amira"].caseload == 1
    assert [e.type for e in unit.events] == ["referral.triaged.v1", "referral.waitlisted.v1"]


async def test_each_waiting_referral_is_told_its_place_in_its_areas_queue(policy):
    full = ConnectorLoad(id="amira", kind="paid", areas=("LS6",), capacity=1, caseload=1)
    unit = FakeTriageUnit(full)
    needs = ["loneliness", "bereavement", "low-mood"]
    for _ in range(3):
        await TriageService(policy).triage(unit, _facts(needs=needs), _cause())

    positions = [e.data["position"] for e in unit.events if e.type == "referral.waitlisted.v1"]
    assert positions == [1, 2, 3]


async def test_a_declined_referral_takes_no_place(policy):
    unit = FakeTriageUnit(_paid("amira"))
    await TriageService(policy).triage(unit, _facts(postcode_district="M1"), _cause())

    assert unit.roster.connectors["amira"].caseload == 0
    assert [e.type for e in unit.events] == ["referral.triaged.v1"]
    assert unit.events[0].data["outcome"] == "declined"
