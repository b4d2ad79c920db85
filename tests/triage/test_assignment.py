"""Choosing a connector: paid first (or volunteer first by policy), who takes new work, least loaded first,
deterministic tie-break, waitlist reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.domain.assignment import (
    Assignment,
    ConnectorLoad,
    Waitlisting,
    complexities_taken_as_new_work,
    new_work_kinds,
    place,
)
from triage.domain.policy import AssignmentRules
from triage.domain.referral import ReferralFacts

pytestmark = pytest.mark.unit

PAID_FIRST = AssignmentRules()
VOLUNTEER_FIRST = AssignmentRules(volunteers_take_new_low_complexity=True)


def facts(**overrides: Any) -> ReferralFacts:
    values: dict[str, Any] = {"referral_id": str(uuid.uuid4()), "received_at": datetime.now(UTC)}
    values.update(overrides)
    return ReferralFacts.of(**values)


def load(connector_id: str, kind: str = "paid", caseload: int = 0, capacity: int = 5, **more: Any) -> ConnectorLoad:
    return ConnectorLoad(
        id=connector_id, kind=kind, areas=more.pop("areas", ("LS6",)), capacity=capacity, caseload=caseload, **more
    )  # type: ignore[arg-type]


def placed(roster, complexity="high", rules=PAID_FIRST, **fact_overrides):
    return place(roster, facts(**fact_overrides), "LS6", complexity, new_work_kinds(rules, complexity))


def chosen(placement) -> str:
    assert isinstance(placement, Assignment), placement
    return placement.connector.id


def test_paid_first_sends_every_new_referral_to_paid_staff_whatever_its_complexity():
    roster = [load("vol", "volunteer"), load("paid", "paid", caseload=4)]
    for complexity in ("low", "medium", "high"):
        assert chosen(placed(roster, complexity)) == "paid", complexity
    assert new_work_kinds(PAID_FIRST, "low") == ("paid",)
    assert complexities_taken_as_new_work(PAID_FIRST, "volunteer") == ()


def test_paid_first_a_low_complexity_referral_waits_for_paid_staff_rather_than_go_to_a_volunteer_with_room():
    placement = placed([load("vol", "volunteer"), load("paid", caseload=5)], "low")
    assert isinstance(placement, Waitlisting)
    assert placement.required_kind == "paid"
    assert placement.reason == "every paid connector (new referrals start with paid staff) covering LS6 is at capacity"


def test_with_the_volunteer_first_switch_low_complexity_goes_to_a_volunteer_even_when_paid_staff_are_less_loaded():
    placement = placed([load("paid"), load("vol", "volunteer", caseload=3)], "low", VOLUNTEER_FIRST)
    assert chosen(placement) == "vol"
    assert placement.reason.startswith("least-loaded volunteer connector covering LS6 with room (3/5")
    assert complexities_taken_as_new_work(VOLUNTEER_FIRST, "volunteer") == ("low",)


def test_with_the_volunteer_first_switch_low_complexity_falls_back_to_paid_staff_when_no_volunteer_has_room():
    placement = placed([load("vol", "volunteer", caseload=5), load("paid", caseload=1)], "low", VOLUNTEER_FIRST)
    assert chosen(placement) == "paid"
    assert "no volunteer covering the district had room" in placement.reason


def test_with_the_volunteer_first_switch_medium_and_high_complexity_still_go_only_to_paid_staff():
    roster = [load("vol", "volunteer"), load("paid", "paid", caseload=4)]
    assert chosen(placed(roster, "medium", VOLUNTEER_FIRST)) == "paid"
    placement = placed([load("vol", "volunteer")], "high", VOLUNTEER_FIRST)
    assert isinstance(placement, Waitlisting)
    assert placement.reason == "no paid connector covers LS6 yet"


def test_a_connector_on_leave_or_who_has_left_or_is_no_longer_in_the_roster_gets_no_new_work():
    roster = [
        load("away", status="on-leave"),
        load("gone", status="left"),
        load("retired", active=False),
        load("busy", caseload=4),
    ]
    assert chosen(placed(roster)) == "busy"
    placement = placed(roster[:3])
    assert isinstance(placement, Waitlisting)
    assert placement.reason == "every paid connector (needed for high complexity) covering LS6 is on leave or has left"


def test_a_full_area_with_someone_away_says_at_capacity_or_away():
    placement = placed([load("away", status="on-leave"), load("full", caseload=5)], "medium")
    assert isinstance(placement, Waitlisting)
    assert placement.reason == "every paid connector (needed for medium complexity) covering LS6 is at capacity or away"


def test_the_least_loaded_by_share_of_capacity_is_chosen():
    roster = [load("a", caseload=3, capacity=6), load("b", caseload=4, capacity=10), load("c", caseload=1, capacity=2)]
    assert chosen(placed(roster, "medium")) == "b"


def test_ties_in_load_go_to_the_smaller_caseload_then_the_lower_id():
    assert chosen(placed([load("a", caseload=2, capacity=4), load("b", caseload=1, capacity=2)])) == "b"
    assert chosen(placed([load("zed"), load("amy"), load("kit")])) == "amy"


def test_a_connector_who_speaks_the_persons_language_is_preferred_over_a_less_loaded_one():
    roster = [load("en-only", caseload=0), load("punjabi", caseload=3, languages=("en", "pa"))]
    placement = placed(roster, "medium", preferred_language="pa-IN")
    assert chosen(placement) == "punjabi"
    assert "speaks 'pa'" in placement.reason


def test_english_as_preferred_language_does_not_change_the_choice():
    roster = [load("b", caseload=0), load("a", caseload=1, languages=("en",))]
    assert chosen(placed(roster, "medium", preferred_language="en-GB")) == "b"


def test_a_matching_specialism_breaks_a_tie_in_load():
    placement = placed([load("a"), load("b", specialisms=("bereavement",))], "medium", needs=["Bereavement"])
    assert chosen(placement) == "b"
    assert "specialises in bereavement" in placement.reason


def test_connectors_who_do_not_cover_the_district_are_never_chosen():
    roster = [load("ls1", areas=("LS1",)), load("leeds", areas=("LS",), caseload=4)]
    assert chosen(place(roster, facts(), "LS10", "medium", ("paid",))) == "leeds"


def test_a_full_area_waitlists_saying_everyone_is_at_capacity():
    roster = [load("a", caseload=5), load("b", "volunteer", caseload=2, capacity=2), load("c", capacity=0)]
    placement = placed(roster, "low", VOLUNTEER_FIRST)
    assert isinstance(placement, Waitlisting)
    assert placement.required_kind is None
    assert placement.reason == "every connector covering LS6 is at capacity"
