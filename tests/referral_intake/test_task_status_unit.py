"""The Task status is a function of the facts, whatever order (and however often) they arrive."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.task import Task

from referral_intake.adapters.fhir_searchset import searchset
from referral_intake.adapters.fhir_task import task_resource
from referral_intake.domain.referral import StoredReferral
from referral_intake.domain.task_status import Assignment, ReferralProgress, Triage, Waitlisting, task_state

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)
ACCEPTED = Triage("accepted", "Lives in Leeds.", T0, "e-triage")
DECLINED = Triage("declined", "We only support people who live in the Leeds service area.", T0, "e-declined")
REDIRECTED = Triage(
    "redirected",
    "This person may be at risk of harm",
    T0,
    "e-redirect",
    redirect_service="Leeds mental health crisis team",
    redirect_contact="NHS 111 option 2",
    redirect_urgent=True,
)
ASSIGNED = Assignment("paid", "LS6", T0 + timedelta(seconds=2), "e-assigned")
WAITLISTED = Waitlisting("LS6", "every connector in LS6 is full", T0 + timedelta(seconds=1), "e-waitlisted")


def _apply(facts) -> ReferralProgress:
    progress = ReferralProgress()
    for fact in facts:
        if isinstance(fact, Triage):
            progress = progress.with_triage(fact)
        elif isinstance(fact, Assignment):
            progress = progress.with_assignment(fact)
        else:
            progress = progress.with_waitlist(fact)
    return progress


def test_a_referral_nobody_has_triaged_is_requested():
    assert task_state(ReferralProgress()).status == "requested"


def test_eligible_but_not_yet_placed_is_accepted_without_a_business_status():
    state = task_state(_apply([ACCEPTED]))
    assert (state.status, state.business_status) == ("accepted", None)
    assert "being assigned" in state.note


@pytest.mark.parametrize(
    ("facts", "status", "business"),
    [
        ([ACCEPTED, ASSIGNED], "accepted", "assigned"),
        ([ACCEPTED, WAITLISTED], "accepted", "waitlisted"),
        ([ACCEPTED, WAITLISTED, ASSIGNED], "accepted", "assigned"),
        ([DECLINED], "rejected", "declined"),
        ([REDIRECTED], "rejected", "redirected"),
    ],
)
def test_any_order_and_any_repeats_give_the_same_task(facts, status, business):
    seen = set()
    for order in itertools.permutations(facts + facts):  # every fact duplicated, every arrival order
        state = task_state(_apply(order))
        seen.add((state.status, state.business_status, state.reason, state.note, state.last_changed))
    assert len(seen) == 1
    [(got_status, got_business, *_)] = seen
    assert (got_status, got_business) == (status, business)


def test_assigned_beats_waitlisted_even_when_the_waitlisting_is_later():
    late_waitlist = Waitlisting("LS6", "full", T0 + timedelta(minutes=5), "e-late")
    assert task_state(_apply([ASSIGNED, late_waitlist])).business_status == "assigned"


def test_an_assignment_before_its_decision_already_shows_accepted_and_never_goes_back():
    progress = _apply([ASSIGNED])
    assert task_state(progress).status == "accepted"
    assert task_state(progress.with_triage(ACCEPTED)).business_status == "assigned"


def test_a_decline_says_why():
    state = task_state(_apply([DECLINED]))
    assert "Leeds service area" in state.reason


def test_a_redirect_says_where_to_go_and_that_it_is_urgent():
    state = task_state(_apply([REDIRECTED]))
    assert "Leeds mental health crisis team" in state.reason
    assert "NHS 111 option 2" in state.reason
    assert "URGENT" in state.reason
    assert state.reason.startswith("This person may be at risk of harm. Please refer to")


def test_of_two_assignments_the_later_one_counts_whatever_order_they_came_in():
    first = Assignment("volunteer", "LS7", T0, "e-1")
    second = Assignment("paid", "LS6", T0 + timedelta(hours=1), "e-2")
    assert _apply([first, second]).assignment == _apply([second, first]).assignment == second


def _referral(nhs_number: str | None = "9434765919") -> StoredReferral:
    return StoredReferral("sr-1", "task-1", "B82005", {}, T0 - timedelta(minutes=1), T0, nhs_number)


@pytest.mark.parametrize(
    "facts", [[], [ACCEPTED], [ACCEPTED, ASSIGNED], [ACCEPTED, WAITLISTED], [DECLINED], [REDIRECTED]]
)
def test_every_task_is_a_valid_r4_task_following_its_service_request(facts):
    task = task_resource(_referral(), task_state(_apply(facts)))
    Task.model_validate(task)
    assert task["intent"] == "order"
    assert task["focus"] == {"reference": "ServiceRequest/sr-1"}
    assert task["for"]["identifier"]["value"] == "9434765919"
    assert task["requester"]["identifier"]["value"] == "B82005"
    assert datetime.fromisoformat(task["authoredOn"]) == T0 - timedelta(minutes=1)


def test_a_placed_task_shows_assigned_or_waitlisted_as_business_status_text():
    assert task_resource(_referral(), task_state(_apply([ASSIGNED])))["businessStatus"]["text"] == "assigned"
    assert task_resource(_referral(), task_state(_apply([WAITLISTED])))["businessStatus"]["text"] == "waitlisted"


def test_a_redirected_task_carries_the_reason_and_the_destination():
    task = task_resource(_referral(None), task_state(_apply([REDIRECTED])))
    assert task["status"] == "rejected"
    assert "crisis team" in task["statusReason"]["text"]
    assert task["output"][0]["valueString"] == "Leeds mental health crisis team (NHS 111 option 2)"
    assert "ServiceRequest/sr-1" in task["for"]["display"]


def test_last_modified_is_the_latest_fact():
    task = task_resource(_referral(), task_state(_apply([ACCEPTED, ASSIGNED])))
    assert datetime.fromisoformat(task["lastModified"]) == ASSIGNED.assigned_at


def test_the_search_result_is_a_searchset_bundle():
    task = task_resource(_referral(), task_state(ReferralProgress()))
    bundle = searchset([task], "http://intake", "http://intake/fhir/Task?focus=ServiceRequest/sr-1")
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    assert bundle["entry"][0]["fullUrl"] == "http://intake/fhir/Task/task-1"
    assert bundle["entry"][0]["search"]["mode"] == "match"
