"""Triage's side of a case's life on a fake unit, in milliseconds: terms, paid first, the waitlist worked when a
place frees, withdrawal, the same person twice, handover, reassignment and leave. Every step checks that
each caseload equals its connector's open cases and never exceeds the capacity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.fakes.triage import FakeTriageUnit
from triage.adapters.events import Cause
from triage.domain.assignment import ConnectorLoad
from triage.domain.policy import Policy
from triage.domain.referral import ReferralFacts
from triage.domain.roster import Roster
from triage.ports import ChangeRequest
from triage.service import TriageService

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEEDS = {"low": ["loneliness"], "medium": ["loneliness", "housing", "debt"], "high": ["loneliness"]}


def paid(connector_id: str, capacity: int = 1, **more: Any) -> ConnectorLoad:
    return ConnectorLoad(connector_id, "paid", more.pop("areas", ("LS6",)), capacity, 0, **more)


def volunteer(connector_id: str, capacity: int = 1, **more: Any) -> ConnectorLoad:
    return ConnectorLoad(connector_id, "volunteer", more.pop("areas", ("LS6",)), capacity, 0, **more)


def cause() -> Cause:
    return Cause(event_id=str(uuid.uuid4()), correlation_id=f"c-{uuid.uuid4().hex[:6]}")


class Desk:
    """A triage service on a fake unit, driven the way the handlers drive it."""

    def __init__(self, policy: Policy, *connectors: ConnectorLoad) -> None:
        self.unit = FakeTriageUnit(*connectors)
        self.service = TriageService(policy)

    async def refer(self, name: str | None = None, complexity: str = "medium", *, hours: float = 0, **more: Any) -> str:
        referral_id = name or str(uuid.uuid4())
        facts = ReferralFacts.of(
            referral_id=referral_id,
            received_at=T0 + timedelta(hours=hours),
            age_years=70,
            postcode_district=more.pop("district", "LS6"),
            needs=NEEDS[complexity],
            risk_flags=["safeguarding-concern"] if complexity == "high" else [],
            **more,
        )
        await self.service.triage(self.unit, facts, cause())
        self.unit.check_invariants()
        return referral_id

    async def close(self, referral_id: str) -> None:
        await self.service.case_ended(self.unit, referral_id, "closed", "goals-met", T0 + timedelta(days=30), cause())
        self.unit.check_invariants()

    async def withdraw(self, referral_id: str) -> None:
        await self.service.case_ended(self.unit, referral_id, "withdrawn", "revoked", T0 + timedelta(days=1), cause())
        self.unit.check_invariants()

    async def ask(self, referral_id: str, kind: str = "handover", to: str | None = None, at: datetime = T0) -> None:
        request = ChangeRequest(referral_id, kind, "coordinator-1", at, "Amira is on leave", to)  # type: ignore[arg-type]
        await self.service.change_requested(self.unit, request, cause())
        self.unit.check_invariants()

    async def reload(self, *connectors: dict[str, Any]) -> list[str]:
        roster = Roster.model_validate(
            {"connectors": [{"display_name": c["id"], "areas": ["LS6"], **c} for c in connectors]}
        )
        reloaded = await self.service.reload_roster(self.unit, roster, "roster.toml", cause())
        self.unit.check_invariants()
        return reloaded.placed

    def data(self, referral_id: str, event_type: str) -> dict[str, Any]:
        (found,) = [e.data for e in self.unit.events if e.subject == referral_id and e.type == event_type]
        return found

    def holder(self, referral_id: str) -> str | None:
        return self.unit.assigned_to(referral_id)


@pytest.fixture
def volunteer_first(policy_file) -> Policy:
    import tomllib

    text = policy_file.read_text() + "\n[assignment]\nvolunteers_take_new_low_complexity = true\n"
    return Policy.model_validate(tomllib.loads(text))


async def test_the_allowance_for_its_complexity_is_stamped_on_the_assignment_with_the_policy_version(policy):
    desk = Desk(policy, paid("amira", capacity=3))
    low, medium, high = await desk.refer(complexity="low"), await desk.refer(), await desk.refer(complexity="high")

    for referral_id, complexity, allowance in ((low, "low", 6), (medium, "medium", 8), (high, "high", 12)):
        assigned = desk.data(referral_id, "referral.assigned.v1")
        assert assigned["complexity"] == complexity
        assert assigned["terms"] == {
            "policy_version": "test-policy-7",
            "session_allowance": allowance,
            "extension_sessions": 4,
            "max_extensions": 1,
            "max_failed_contacts": 3,
            "stalled_after_days": 21,
        }


async def test_paid_first_a_new_low_complexity_referral_goes_to_paid_staff_while_a_volunteer_has_room(policy):
    desk = Desk(policy, volunteer("jean"), paid("amira"))
    referral = await desk.refer(complexity="low")
    assert desk.holder(referral) == "amira"
    waiting = await desk.refer(complexity="low")
    assert desk.holder(waiting) is None, "paid first: the volunteer with room takes no new referral"
    assert desk.data(waiting, "referral.waitlisted.v1")["required_kind"] == "paid"


async def test_the_volunteer_first_switch_sends_new_low_complexity_referrals_to_a_volunteer(volunteer_first):
    desk = Desk(volunteer_first, volunteer("jean"), paid("amira"))
    assert desk.holder(await desk.refer(complexity="low")) == "jean"
    assert desk.holder(await desk.refer(complexity="medium")) == "amira"


async def test_a_closure_frees_the_place_and_assigns_the_next_waiting_person_in_the_same_unit(policy):
    desk = Desk(policy, paid("amira"))
    first = await desk.refer()
    second = await desk.refer(hours=1)
    await desk.close(first)

    assert desk.holder(first) is None
    assert desk.holder(second) == "amira"
    from_waitlist = desk.data(second, "referral.assigned-from-waitlist.v1")
    assert from_waitlist["waiting_since"] == (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert (from_waitlist["complexity"], from_waitlist["terms"]["session_allowance"]) == ("medium", 8)
    assert desk.unit.waitlist.order == []


async def test_urgent_waits_ahead_of_routine_then_the_longest_waiting_goes_first(policy):
    desk = Desk(policy, paid("amira"))
    holder = await desk.refer(hours=0)
    routine_early = await desk.refer(hours=1)
    routine_late = await desk.refer(hours=2)
    urgent_latest = await desk.refer(hours=3, priority="urgent")
    assert desk.unit.waitlist.order == [urgent_latest, routine_early, routine_late]

    await desk.close(holder)
    assert desk.holder(urgent_latest) == "amira"
    await desk.close(urgent_latest)
    assert desk.holder(routine_early) == "amira"
    assert desk.unit.waitlist.order == [routine_late]


async def test_a_waiting_person_who_could_take_a_free_place_is_placed_before_a_new_arrival(policy):
    desk = Desk(policy, paid("amira"))
    holder = await desk.refer()
    waiting = await desk.refer(hours=1)
    # The place frees without the waitlist being worked (as if a unit had rolled back half way).
    desk.unit.cases.assignments[holder].open = False
    await desk.unit.roster.release_case("amira")

    newcomer = await desk.refer(hours=2)
    assert desk.holder(waiting) == "amira"
    assert desk.holder(newcomer) is None
    assert desk.unit.waitlist.order == [newcomer]


async def test_a_closure_for_an_unknown_or_already_ended_case_changes_nothing(policy):
    desk = Desk(policy, paid("amira"))
    first = await desk.refer()
    second = await desk.refer(hours=1)
    third = await desk.refer(hours=2)
    await desk.close(first)
    events = len(desk.unit.events)

    await desk.close(first)  # the same closure again, under another event id
    await desk.close(str(uuid.uuid4()))
    assert desk.holder(second) == "amira"
    assert desk.unit.waitlist.order == [third]
    assert len(desk.unit.events) == events


async def test_a_closure_before_its_referral_was_triaged_means_the_referral_is_never_placed(policy):
    desk = Desk(policy, paid("amira"))
    early = str(uuid.uuid4())
    await desk.close(early)
    await desk.refer(early)
    assert desk.holder(early) is None
    assert desk.unit.events == []
    assert desk.unit.caseload("amira") == 0


async def test_withdrawing_an_assigned_referral_frees_its_place_for_the_next_waiting_person(policy):
    desk = Desk(policy, paid("amira"))
    assigned = await desk.refer()
    waiting = await desk.refer(hours=1)
    await desk.withdraw(assigned)
    assert desk.holder(assigned) is None
    assert desk.holder(waiting) == "amira"


async def test_withdrawing_a_waiting_referral_takes_it_off_the_waitlist_and_frees_nothing(policy):
    desk = Desk(policy, paid("amira"))
    assigned = await desk.refer()
    waiting = await desk.refer(hours=1)
    await desk.withdraw(waiting)
    assert desk.unit.waitlist.order == []
    assert desk.holder(assigned) == "amira"
    await desk.close(assigned)
    assert desk.holder(waiting) is None, "a withdrawn referral is never assigned later"


async def test_a_referral_withdrawn_before_it_was_triaged_is_never_assigned(policy):
    desk = Desk(policy, paid("amira"))
    overtaken = str(uuid.uuid4())
    await desk.withdraw(overtaken)
    await desk.refer(overtaken)
    assert desk.holder(overtaken) is None
    assert desk.unit.types(overtaken) == []
    assert desk.unit.waitlist.order == []


async def test_the_same_person_referred_again_while_assigned_is_linked_to_the_open_case(policy):
    desk = Desk(policy, paid("amira", capacity=5))
    first = await desk.refer(person_key="p-1")
    again = await desk.refer(person_key="p-1", hours=1, replaces_referral_id=first)

    assert desk.unit.types(again) == ["referral.triaged.v1", "referral.linked.v1"]
    linked = desk.data(again, "referral.linked.v1")
    assert linked["linked_to_referral_id"] == first
    assert "already has an open referral" in linked["reason"]
    assert desk.unit.caseload("amira") == 1
    assert desk.unit.decisions.links[again][0] == first


async def test_the_same_person_referred_again_while_waiting_is_linked_to_the_waiting_referral(policy):
    desk = Desk(policy, paid("amira"))
    await desk.refer()
    waiting = await desk.refer(person_key="p-2", hours=1)
    again = await desk.refer(person_key="p-2", hours=2)
    assert desk.data(again, "referral.linked.v1")["linked_to_referral_id"] == waiting
    assert "waiting list" in desk.data(again, "referral.linked.v1")["reason"]
    assert desk.unit.waitlist.order == [waiting]


async def test_a_person_whose_case_closed_is_given_a_place_when_referred_again(policy):
    desk = Desk(policy, paid("amira"))
    first = await desk.refer(person_key="p-3")
    await desk.close(first)
    again = await desk.refer(person_key="p-3", hours=1)
    assert desk.holder(again) == "amira"


async def test_a_redirect_for_a_person_with_an_open_case_is_still_made(policy):
    desk = Desk(policy, paid("amira", capacity=5))
    await desk.refer(person_key="p-4")
    crisis = str(uuid.uuid4())
    facts = ReferralFacts.of(
        referral_id=crisis, received_at=T0, age_years=70, postcode_district="LS6", risk_flags=["self-harm-risk"],
        person_key="p-4",
    )  # fmt: skip
    await desk.service.triage(desk.unit, facts, cause())
    assert desk.unit.types(crisis) == ["referral.triaged.v1"]
    assert desk.data(crisis, "referral.triaged.v1")["outcome"] == "redirected"


async def test_a_low_complexity_case_is_handed_over_and_the_paid_place_goes_to_the_next_waiting_person(policy):
    desk = Desk(policy, paid("amira"), volunteer("jean"))
    light = await desk.refer(complexity="low")
    waiting = await desk.refer(hours=1)
    await desk.ask(light)

    assert desk.holder(light) == "jean"
    handed = desk.data(light, "referral.handed-over.v1")
    assert (handed["from_connector_id"], handed["connector_id"], handed["connector_kind"]) == (
        "amira",
        "jean",
        "volunteer",
    )
    assert desk.holder(waiting) == "amira"
    assert desk.unit.types(waiting)[-1] == "referral.assigned-from-waitlist.v1"


async def test_a_medium_complexity_case_is_not_handed_over(policy):
    desk = Desk(policy, paid("amira"), volunteer("jean"))
    medium = await desk.refer()
    await desk.ask(medium)
    assert desk.holder(medium) == "amira"
    assert "medium complexity" in desk.data(medium, "referral.handover-refused.v1")["reason"]


async def test_a_handover_with_no_volunteer_room_is_refused_and_nothing_moves(policy):
    desk = Desk(policy, paid("amira"), volunteer("jean", capacity=0))
    light = await desk.refer(complexity="low")
    await desk.ask(light)
    assert desk.holder(light) == "amira"
    assert desk.data(light, "referral.handover-refused.v1")["reason"].startswith("No volunteer covering LS6 has room")


async def test_the_same_handover_request_delivered_twice_is_answered_once(policy):
    desk = Desk(policy, paid("amira"), volunteer("jean"))
    light = await desk.refer(complexity="low")
    await desk.ask(light)
    await desk.ask(light)
    assert desk.unit.types(light).count("referral.handed-over.v1") == 1
    assert "referral.handover-refused.v1" not in desk.unit.types(light)


async def test_a_handover_of_a_closed_case_is_refused_as_not_open(policy):
    desk = Desk(policy, paid("amira"), volunteer("jean"))
    light = await desk.refer(complexity="low")
    await desk.close(light)
    await desk.ask(light)
    assert desk.data(light, "referral.handover-refused.v1")["reason"].startswith("The case is not open")


async def test_a_reassignment_to_a_named_connector_moves_the_case_and_frees_the_old_place(policy):
    desk = Desk(policy, paid("amira", areas=("LS6", "LS7")), paid("bilal", capacity=2))
    case = await desk.refer()
    assert desk.holder(case) == "amira"
    waiting = await desk.refer(hours=1, district="LS7")  # only amira covers LS7, and she is full
    assert desk.holder(waiting) is None
    await desk.ask(case, "reassignment", to="bilal")

    assert desk.holder(case) == "bilal"
    reassigned = desk.data(case, "referral.reassigned.v1")
    assert (reassigned["from_connector_id"], reassigned["connector_id"]) == ("amira", "bilal")
    assert reassigned["reason"] == "Amira is on leave"
    assert desk.holder(waiting) == "amira", "the old place frees and works the waitlist"


async def test_a_reassignment_to_a_named_connector_without_room_is_refused(policy):
    desk = Desk(policy, paid("amira"), paid("bilal"))
    case = await desk.refer()
    await desk.refer()  # bilal is now full
    await desk.ask(case, "reassignment", to="bilal")
    assert desk.holder(case) == "amira"
    assert desk.data(case, "referral.reassignment-refused.v1")["reason"] == "bilal has no room (1/1 cases)."


async def test_a_reassignment_to_the_best_connector_picks_the_least_loaded_other_one(policy):
    desk = Desk(policy, paid("amira", capacity=2), paid("bilal", capacity=4), paid("cara", capacity=4))
    case = await desk.refer()
    await desk.refer()
    assert desk.holder(case) == "amira"
    await desk.ask(case, "reassignment")
    assert desk.holder(case) in {"bilal", "cara"}
    assert desk.data(case, "referral.reassigned.v1")["from_connector_id"] == "amira"


async def test_a_reassignment_with_no_one_else_with_room_is_refused(policy):
    desk = Desk(policy, paid("amira"), paid("bilal", capacity=0))
    case = await desk.refer()
    await desk.ask(case, "reassignment")
    assert desk.data(case, "referral.reassignment-refused.v1")["reason"].startswith("No other paid connector")


async def test_a_connector_on_leave_gets_no_new_work_and_back_from_leave_takes_the_waiting_person(policy):
    desk = Desk(policy, paid("amira"), paid("bilal"))
    await desk.reload(
        {"id": "amira", "kind": "paid", "capacity": 1, "status": "on-leave"},
        {"id": "bilal", "kind": "paid", "capacity": 1},
    )
    first = await desk.refer()
    waiting = await desk.refer(hours=1)
    assert desk.holder(first) == "bilal"
    assert desk.holder(waiting) is None, "amira is on leave and has room, but takes no new work"

    placed = await desk.reload(
        {"id": "amira", "kind": "paid", "capacity": 1}, {"id": "bilal", "kind": "paid", "capacity": 1}
    )
    assert placed == [waiting]
    assert desk.holder(waiting) == "amira"


async def test_more_capacity_on_reload_takes_waiting_people_in_order(policy):
    desk = Desk(policy, paid("amira"))
    await desk.refer()
    later = await desk.refer(hours=2)
    earlier_urgent = await desk.refer(hours=3, priority="urgent")
    assert await desk.reload({"id": "amira", "kind": "paid", "capacity": 2}) == [earlier_urgent]
    assert desk.unit.waitlist.order == [later]
