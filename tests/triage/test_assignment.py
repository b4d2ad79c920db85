"""Choosing a connector: kind rules, least loaded first, deterministic tie-break, waitlist reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.domain.assignment import Assignment, ConnectorLoad, Waitlisting, place
from triage.domain.referral import ReferralFacts

pytestmark = pytest.mark.unit


def facts(**overrides: Any) -> ReferralFacts:
    values: dict[str, Any] = {"referral_id": str(uuid.uuid4()), "received_at": datetime.now(UTC)}
    values.update(overrides)
    return ReferralFacts.of(**values)


def load(connector_id: str, kind: str = "paid", caseload: int = 0, capacity: int = 5, **more: Any) -> ConnectorLoad:
    return ConnectorLoad(
        id=connector_id, kind=kind, areas=more.pop("areas", ("LS6",)), capacity=capacity, caseload=caseload, **more
    )  # type: ignore[arg-type]


def chosen(placement) -> str:
    assert isinstance(placement, Assignment), placement
    return placement.connector.id


def test_medium_and_high_complexity_go_only_to_paid_staff():
    roster = [load("vol", "volunteer"), load("paid", "paid", caseload=4)]
    assert chosen(place(roster, facts(), "LS6", "medium")) == "paid"
    assert chosen(place(roster, facts(), "LS6", "high")) == "paid"


def test_complex_referrals_wait_rather_than_go_to_a_volunteer_with_room():
    placement = place([load("vol", "volunteer")], facts(), "LS6", "high")
    assert isinstance(placement, Waitlisting)
    assert placement.required_kind == "paid"
    assert placement.reason == "no paid connector covers LS6 yet"


def test_low_complexity_goes_to_a_volunteer_even_when_paid_staff_are_less_loaded():
    roster = [load("paid", "paid"), load("vol", "volunteer", caseload=3)]
    placement = place(roster, facts(), "LS6", "low")
    assert chosen(placement) == "vol"
    assert placement.reason.startswith("least-loaded volunteer connector covering LS6 with room (3/5")


def test_low_complexity_falls_back_to_paid_staff_when_no_volunteer_has_room():
    roster = [load("vol", "volunteer", caseload=5), load("paid", "paid", caseload=1)]
    placement = place(roster, facts(), "LS6", "low")
    assert chosen(placement) == "paid"
    assert "no volunteer covering the district had room" in placement.reason


def test_the_least_loaded_by_share_of_capacity_is_chosen():
    roster = [load("a", caseload=3, capacity=6), load("b", caseload=4, capacity=10), load("c", caseload=1, capacity=2)]
    assert chosen(place(roster, facts(), "LS6", "medium")) == "b"


def test_ties_in_load_go_to_the_smaller_caseload_then_the_lower_id():
    assert (
        chosen(place([load("a", caseload=2, capacity=4), load("b", caseload=1, capacity=2)], facts(), "LS6", "high"))
        == "b"
    )
    assert chosen(place([load("zed"), load("amy"), load("kit")], facts(), "LS6", "high")) == "amy"


def test_a_connector_who_speaks_the_persons_language_is_preferred_over_a_less_loaded_one():
    roster = [load("en-only", caseload=0), load("punjabi", caseload=3, languages=("en", "pa"))]
    placement = place(roster, facts(preferred_language="pa-IN"), "LS6", "medium")
    assert chosen(placement) == "punjabi"
    assert "speaks 'pa'" in placement.reason


def test_english_as_preferred_language_does_not_change_the_choice():
    roster = [load("b", caseload=0), load("a", caseload=1, languages=("en",))]
    assert chosen(place(roster, facts(preferred_language="en-GB"), "LS6", "medium")) == "b"


def test_a_matching_specialism_breaks_a_tie_in_load():
    roster = [load("a"), load("b", specialisms=("bereavement",))]
    placement = place(roster, facts(needs=["Bereavement"]), "LS6", "medium")
    assert chosen(placement) == "b"
    assert "specialises in bereavement" in placement.reason


def test_connectors_who_do_not_cover_the_district_are_never_chosen():
    roster = [load("ls1", areas=("LS1",)), load("leeds", areas=("LS",), caseload=4)]
    assert chosen(place(roster, facts(), "LS10", "medium")) == "leeds"


def test_a_full_area_waitlists_saying_everyone_is_at_capacity():
    roster = [load("a", caseload=5), load("b", "volunteer", caseload=2, capacity=2), load("c", capacity=0)]
    placement = place(roster, facts(), "LS6", "low")
    assert isinstance(placement, Waitlisting)
    assert placement.required_kind is None
    assert placement.reason == "every connector covering LS6 is at capacity"
