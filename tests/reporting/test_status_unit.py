"""The status a referral is counted under is derived from its facts, whatever order they came in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from reporting.domain.facts import Assigned, Closed, Linked, Received, Triaged, Waitlisted, Withdrawn
from reporting.domain.status import Decision, Status, StatusFacts, derive_decision, derive_status

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
RID = "ref-1"

RECEIVED = Received(RID, NOW, "fhir-rest", "routine", "65-74", "LS6", ("loneliness",), "gp", "B82005", 2)
ACCEPTED = Triaged(RID, NOW, Decision.ACCEPTED, "low", ("in-area",), None)
DECLINED = Triaged(RID, NOW, Decision.DECLINED, "low", ("out-of-area",), None)
REDIRECTED = Triaged(RID, NOW, Decision.REDIRECTED, "high", ("crisis",), True)
ASSIGNED = Assigned(
    RID,
    connector_kind="paid",
    connector_since=NOW,
    assigned_at=NOW,
    area="leeds",
    stalled_after_days=21,
)
WAITLISTED = Waitlisted(RID, NOW, "leeds")
CLOSED = Closed(RID, NOW, "goals-met", 5)
WITHDRAWN = Withdrawn(RID, NOW)
LINKED = Linked(RID, NOW)

JOURNEYS = {
    "received only": ([RECEIVED], Status.AWAITING_TRIAGE),
    "accepted, nothing free yet": ([RECEIVED, ACCEPTED], Status.ACCEPTED),
    "accepted and assigned": ([RECEIVED, ACCEPTED, ASSIGNED], Status.ASSIGNED),
    "accepted and waitlisted": ([RECEIVED, ACCEPTED, WAITLISTED], Status.WAITLISTED),
    "waitlisted, then assigned": ([RECEIVED, ACCEPTED, WAITLISTED, ASSIGNED], Status.ASSIGNED),
    "declined": ([RECEIVED, DECLINED], Status.DECLINED),
    "redirected": ([RECEIVED, REDIRECTED], Status.REDIRECTED),
    "assigned, then closed": ([RECEIVED, ACCEPTED, ASSIGNED, CLOSED], Status.CLOSED),
    "waited, assigned, closed": ([RECEIVED, ACCEPTED, WAITLISTED, ASSIGNED, CLOSED], Status.CLOSED),
    "closure known before anything else": ([CLOSED, ASSIGNED], Status.CLOSED),
    "withdrawn while waiting": ([RECEIVED, ACCEPTED, WAITLISTED, WITHDRAWN], Status.WITHDRAWN),
    "withdrawn once assigned": ([RECEIVED, ACCEPTED, ASSIGNED, WITHDRAWN], Status.WITHDRAWN),
    "linked to an open case": ([RECEIVED, ACCEPTED, LINKED], Status.LINKED),
}


def _status_after(facts) -> Status:
    """Apply facts the way the projection's upsert does: each one sets only its own fields."""
    row: dict[str, object] = {}
    for fact in facts:
        row.update(fact.fields())
    return derive_status(StatusFacts.from_fields(row))


@pytest.mark.parametrize(("facts", "expected"), JOURNEYS.values(), ids=JOURNEYS.keys())
def test_every_order_of_the_same_facts_gives_the_same_status(facts, expected):
    for order in itertools.permutations(facts):
        assert _status_after(order) == expected, f"order {[type(f).__name__ for f in order]}"


@pytest.mark.parametrize(("facts", "expected"), JOURNEYS.values(), ids=JOURNEYS.keys())
def test_repeated_facts_do_not_change_the_status(facts, expected):
    for order in itertools.permutations(facts):
        assert _status_after([*order, *reversed(order), order[0]]) == expected


def test_each_kind_of_event_writes_only_its_own_fields():
    kinds = [RECEIVED, ACCEPTED, ASSIGNED, WAITLISTED, CLOSED, WITHDRAWN, LINKED]
    for first, second in itertools.combinations(kinds, 2):
        shared = set(first.fields()) & set(second.fields())
        assert not shared, f"{type(first).__name__} and {type(second).__name__} both write {shared}"


def test_a_waitlisted_referral_assigned_later_counts_as_assigned_not_waitlisted():
    facts = StatusFacts(outcome=Decision.ACCEPTED, assigned=True, waitlisted=True)
    assert derive_status(facts) == Status.ASSIGNED


def test_a_referral_known_only_from_its_triage_decision_has_the_status_that_decision_implies():
    row = dict(ACCEPTED.fields())
    assert "received_at" not in row
    facts = StatusFacts.from_fields(row)
    assert derive_status(facts) == Status.ACCEPTED
    assert derive_decision(facts) == Decision.ACCEPTED


def test_an_assignment_seen_before_its_decision_already_counts_as_accepted():
    facts = StatusFacts.from_fields(ASSIGNED.fields())
    assert derive_status(facts) == Status.ASSIGNED
    assert derive_decision(facts) == Decision.ACCEPTED


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Decision.ACCEPTED, Status.ACCEPTED),
        (Decision.DECLINED, Status.DECLINED),
        (Decision.REDIRECTED, Status.REDIRECTED),
    ],
)
def test_an_unassigned_decision_is_its_own_status(outcome, status):
    assert derive_status(StatusFacts(outcome=outcome)) == status


def test_a_referral_with_no_decision_awaits_triage_and_has_no_decision():
    facts = StatusFacts.from_fields(RECEIVED.fields())
    assert derive_status(facts) == Status.AWAITING_TRIAGE
    assert derive_decision(facts) is None
