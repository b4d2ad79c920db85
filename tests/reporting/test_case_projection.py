"""Case figures on the real broker and PostgreSQL: where cases stand, why they closed, sessions, measures' change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from signpost_contracts.events.cases import Ons4
from support.events import (
    case_closed,
    contact_recorded,
    measures_recorded,
    referral_assigned,
    referral_assigned_from_waitlist,
    referral_handed_over,
    referral_linked,
    referral_withdrawn,
    session_recorded,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _id() -> str:
    return f"case-{uuid.uuid4()}"


def _measures(referral_id: str, stage: str, ucla3_total: int | None, ons: str | None, **ons4: int | None):
    return measures_recorded(
        referral_id,
        stage=stage,
        at=T0 + (timedelta(days=60) if stage == "closing" else timedelta()),
        ucla3=None,
        ucla3_total=ucla3_total,
        ons_loneliness=ons,
        ons4=Ons4(**ons4) if ons4 else None,
    )


async def test_open_waiting_closed_withdrawn_and_linked_cases_are_counted_with_closure_reasons_and_sessions(
    reporting, events
):
    open_case, waiting, closed_a, closed_b, withdrawn, linked = (_id() for _ in range(6))
    await reporting.deliver(
        *(events.received(r) for r in (open_case, waiting, closed_a, closed_b, withdrawn, linked)),
        events.assigned(open_case),
        events.waitlisted(waiting),
        events.waitlisted(closed_a),
        referral_assigned_from_waitlist(closed_a),
        case_closed(closed_a, reason="goals-met", sessions_used=6),
        events.assigned(closed_b),
        case_closed(closed_b, reason="moved-away", sessions_used=1),
        events.waitlisted(withdrawn),
        referral_withdrawn(withdrawn),
        referral_linked(linked),
    )

    cases = (await reporting.summary())["cases"]
    assert {k: cases[k] for k in ("open", "waiting", "closed", "withdrawn", "linked")} == {
        "open": 1,
        "waiting": 1,
        "closed": 2,
        "withdrawn": 1,
        "linked": 1,
    }
    assert cases["closure_reasons"] == {
        "goals-met": 1,
        "connected-onward": 0,
        "disengaged": 0,
        "declined": 0,
        "moved-away": 1,
        "other": 0,
    }
    assert cases["sessions"] == {"total": 7, "closed_cases": 2, "mean_per_closed_case": 3.5}


async def test_a_closure_before_its_assignment_and_repeated_events_count_the_case_once_as_closed(reporting, events):
    referral_id = _id()
    closed = case_closed(referral_id, reason="disengaged", sessions_used=2)
    assigned = referral_assigned_from_waitlist(referral_id)
    await reporting.deliver(closed)
    await reporting.deliver(closed, assigned, events.waitlisted(referral_id), events.received(referral_id), assigned)

    cases = (await reporting.summary())["cases"]
    assert (cases["open"], cases["waiting"], cases["closed"]) == (0, 0, 1)
    assert cases["closure_reasons"]["disengaged"] == 1
    assert cases["sessions"] == {"total": 2, "closed_cases": 1, "mean_per_closed_case": 2.0}
    assert (await reporting.row(referral_id))["status"] == "closed"


async def test_each_measure_changes_over_only_the_people_with_both_a_baseline_and_a_closing_answer(reporting):
    both, only_baseline, partial = _id(), _id(), _id()
    await reporting.deliver(
        _measures(both, "baseline", 8, "often-always", life_satisfaction=3, worthwhile=4, happiness=2, anxiety=8),
        _measures(both, "closing", 5, "occasionally", life_satisfaction=6, worthwhile=7, happiness=5, anxiety=4),
        _measures(only_baseline, "baseline", 9, "often-always", life_satisfaction=0, anxiety=10),
        # Declined some questions: the UCLA-3 total and anxiety at closing are missing.
        _measures(partial, "baseline", 6, "some-of-the-time", life_satisfaction=5, anxiety=6),
        _measures(partial, "closing", None, "some-of-the-time", life_satisfaction=8),
    )

    outcomes = (await reporting.summary())["cases"]["outcomes"]
    assert outcomes["ucla3"] == {"n": 1, "baseline_mean": 8.0, "closing_mean": 5.0, "mean_change": -3.0}
    ons4 = outcomes["ons4"]
    assert ons4["life_satisfaction"] == {"n": 2, "baseline_mean": 4.0, "closing_mean": 7.0, "mean_change": 3.0}
    assert ons4["anxiety"] == {"n": 1, "baseline_mean": 8.0, "closing_mean": 4.0, "mean_change": -4.0}
    assert ons4["worthwhile"]["n"] == 1
    assert outcomes["ons_loneliness"] == {"n": 2, "less_often": 1, "same": 1, "more_often": 0}


async def test_a_stage_recorded_again_replaces_the_earlier_answers_whichever_arrives_first(reporting):
    referral_id = _id()
    first = _measures(referral_id, "closing", 7, "often-always")
    corrected = measures_recorded(
        referral_id, stage="closing", at=T0 + timedelta(days=61), ucla3_total=4, ons_loneliness="never", ons4=None
    )
    await reporting.deliver(corrected, _measures(referral_id, "baseline", 9, "often-always"), first, corrected)

    outcomes = (await reporting.summary())["cases"]["outcomes"]
    assert outcomes["ucla3"] == {"n": 1, "baseline_mean": 9.0, "closing_mean": 4.0, "mean_change": -5.0}
    assert outcomes["ons_loneliness"] == {"n": 1, "less_often": 1, "same": 0, "more_often": 0}


async def test_a_loneliness_answer_more_often_at_closing_is_counted_as_more_often(reporting):
    referral_id = _id()
    await reporting.deliver(
        _measures(referral_id, "baseline", None, "hardly-ever"), _measures(referral_id, "closing", None, "often-always")
    )
    lonely = (await reporting.summary())["cases"]["outcomes"]["ons_loneliness"]
    assert lonely == {"n": 1, "less_often": 0, "same": 0, "more_often": 1}


async def test_milestones_converge_whatever_order_their_events_arrive_in(reporting, events):
    referral_id = _id()
    assigned = referral_assigned(referral_id, at=T0, area="leeds-north", connector_kind="paid")
    handed_over = referral_handed_over(referral_id, at=T0 + timedelta(days=20))
    first_reach = contact_recorded(referral_id, at=T0 + timedelta(days=2))
    later_reach = contact_recorded(referral_id, at=T0 + timedelta(days=9))  # a replay gone wrong: first is first
    sessions = [session_recorded(referral_id, at=T0 + timedelta(days=d), sessions_used=n) for n, d in ((1, 5), (2, 12))]
    # Newest first: the handover before its assignment, the later session before the earlier one.
    await reporting.deliver(handed_over, sessions[1], later_reach, assigned, sessions[0], first_reach)

    row = await reporting.row(referral_id)
    assert row["connector_kind"] == "volunteer"
    assert row["connector_since"] == T0 + timedelta(days=20)
    assert row["area"] == "leeds-north"
    assert row["first_reached_at"] == T0 + timedelta(days=2)
    assert row["last_session_at"] == T0 + timedelta(days=12)
    assert row["unreachable_at"] is None


async def test_an_unanswered_attempt_counts_nothing_and_the_last_one_allowed_marks_the_case_unreachable(
    reporting, events
):
    referral_id = _id()
    unanswered = {"outcome": "no-answer", "first_reached": False}
    await reporting.deliver(
        events.assigned(referral_id),
        contact_recorded(referral_id, at=T0, failed_attempts=1, could_not_contact=False, **unanswered),
    )
    assert (await reporting.row(referral_id))["unreachable_at"] is None

    await reporting.deliver(
        contact_recorded(
            referral_id, at=T0 + timedelta(days=3), failed_attempts=3, could_not_contact=True, **unanswered
        )
    )
    row = await reporting.row(referral_id)
    assert row["unreachable_at"] == T0 + timedelta(days=3)
    assert row["first_reached_at"] is None
