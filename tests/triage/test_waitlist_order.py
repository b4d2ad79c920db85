"""The waiting order (priority, then time waited, then id) and who may take a waiting entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage.domain.assignment import ConnectorLoad
from triage.domain.policy import AssignmentRules
from triage.domain.waitlist import WaitingEntry, choose_for, first_waiting, may_take

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def entry(referral_id: str, priority: str = "routine", hours: int = 0, complexity="medium", area="LS6", **more):
    return WaitingEntry(referral_id, area, complexity, priority, T0 + timedelta(hours=hours), **more)


def connector(connector_id: str, kind="paid", caseload=0, capacity=1, areas=("LS6",), **more) -> ConnectorLoad:
    return ConnectorLoad(connector_id, kind, areas, capacity, caseload, **more)  # type: ignore[arg-type]


def test_stat_asap_and_urgent_wait_ahead_of_routine_then_the_longest_waiting_then_the_id():
    entries = [
        entry("routine-old", "routine", hours=0),
        entry("urgent-new", "urgent", hours=9),
        entry("asap", "asap", hours=8),
        entry("stat", "stat", hours=10),
        entry("b-routine", "routine", hours=5),
        entry("a-routine", "routine", hours=5),
    ]
    ordered = [e.referral_id for e in sorted(entries, key=lambda e: e.order)]
    assert ordered == ["stat", "asap", "urgent-new", "routine-old", "a-routine", "b-routine"]


def test_the_first_waiting_entry_a_connector_may_take_skips_those_it_may_not():
    entries = [entry("elsewhere", "urgent", area="LS10"), entry("here", hours=3)]
    assert first_waiting(entries, [connector("ls6")], AssignmentRules()).referral_id == "here"


def test_a_connector_who_is_full_away_or_of_the_wrong_kind_may_not_take_a_waiting_entry():
    waiting = entry("w", complexity="low")
    rules = AssignmentRules()
    assert may_take(connector("paid"), waiting, rules)
    assert not may_take(connector("full", caseload=1), waiting, rules)
    assert not may_take(connector("away", status="on-leave"), waiting, rules)
    assert not may_take(connector("vol", kind="volunteer"), waiting, rules), "paid first: volunteers take no new work"
    assert may_take(
        connector("vol", kind="volunteer"), waiting, AssignmentRules(volunteers_take_new_low_complexity=True)
    )
    assert first_waiting([waiting], [connector("full", caseload=1)], rules) is None


def test_a_waiting_person_is_given_the_best_connector_among_those_freed_with_the_reason():
    waiting = entry("w", needs=frozenset({"bereavement"}))
    chosen = choose_for(waiting, [connector("a"), connector("b", specialisms=("bereavement",))], AssignmentRules())
    assert chosen is not None
    assert chosen.connector.id == "b"
    assert chosen.reason.startswith("a place freed; first waiting (routine priority) for it: least-loaded paid")
