"""The Task follows the case through Gravity's states, whatever order triage's events arrive in around the case."""

from __future__ import annotations

import functools
import itertools
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.adapters.fhir_task import task_resource
from referral_intake.case_service import CaseService
from referral_intake.domain.referral import ReferralSubmission
from referral_intake.domain.task_status import TaskState
from referral_intake.service import IntakeService
from referral_intake.triage_facts import TriageFacts
from signpost_contracts import EventEnvelope
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import Principal
from support.events import (
    TERMS,
    referral_assigned,
    referral_linked,
    referral_reassigned,
    referral_triaged,
    referral_waitlisted,
)
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

WRITER = Principal(subject="gp-system", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code="B82005")
OTHER_PRACTICE = Principal(subject="gp-2", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code="B86010")
COORDINATOR = Principal(subject="coordinator-1", scopes=frozenset({"cases:coordinate"}), ods_code=None)
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # after the referral's receipt, never ahead of now
intake, cases, facts = IntakeService(clock=lambda: T0 - timedelta(hours=1)), CaseService(), TriageFacts()
Record = Callable[[FakeIntakeUnit, str], Awaitable[object]]


@functools.cache
def _submission(ods_code: str) -> ReferralSubmission:
    body = gp_referral(rng=random.Random(), ods_code=ods_code)
    return submission_from_body(json.dumps(body).encode(), max_depth=64, today=T0.date())


async def _referral(unit: FakeIntakeUnit, by: Principal = WRITER) -> str:
    # One referral's FHIR parsed once: each unit is a fresh store, and a second one in a unit is a new referral.
    submission = replace(_submission(by.ods_code or "B82005"), identifiers=())
    return (await intake.submit(unit, submission, by, None, request_id=str(uuid.uuid4()))).referral.id


def _triage_events(referral_id: str) -> list[EventEnvelope]:
    """A decision, a wait, the assignment and a reassignment, times in their real order."""
    return [
        referral_triaged(referral_id, "accepted", at=T0),
        referral_waitlisted(referral_id, at=T0 + timedelta(seconds=1)),
        referral_assigned(referral_id, at=T0 + timedelta(seconds=2), complexity="low", terms=TERMS),
        referral_reassigned(referral_id, at=T0 + timedelta(seconds=3)),
    ]


async def _apply(unit: FakeIntakeUnit, event: EventEnvelope) -> None:
    use_case = {
        "referral.triaged.v1": facts.record_triage,
        "referral.waitlisted.v1": facts.record_waitlist,
        "referral.assigned.v1": facts.record_assignment,
        "referral.reassigned.v1": facts.record_move,
    }[event.type]
    await use_case(unit, event)


def _contact(outcome: str, minutes: int) -> Record:
    return lambda unit, rid: cases.record_contact(unit, rid, COORDINATOR, mode="telephone", outcome=outcome,  # type: ignore[arg-type]
                                                   at=T0 + timedelta(minutes=minutes))  # fmt: skip


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


SUPPORTED: list[Record] = [
    _contact("reached", 1),
    lambda unit, rid: cases.set_goals(unit, rid, COORDINATOR, goals=["Join a walking group"], at=_at(2)),
    lambda unit, rid: cases.record_measures(
        unit, rid, COORDINATOR, stage="baseline", ucla3=[3, 3, 2], ons_loneliness="often-always", at=_at(3)
    ),
    lambda unit, rid: cases.record_session(unit, rid, COORDINATOR, mode="walk", at=_at(4)),
    lambda unit, rid: cases.record_measures(unit, rid, COORDINATOR, stage="closing", ucla3=[1, 2, 1], at=_at(5)),
    lambda unit, rid: cases.close(
        unit, rid, COORDINATOR, reason="connected-onward", onward=["Hyde Park walkers"], note="private", at=_at(6)
    ),
]
PATHS: dict[str, tuple[list[Record], str, str | None]] = {
    "in progress once reached": (SUPPORTED[:1], "in-progress", "support-started"),
    "completed with outputs": (SUPPORTED, "completed", "closed"),
    "failed, could not contact": ([_contact("no-answer", m) for m in (1, 2, 3)], "failed", "could-not-contact"),
    "failed, declined by the person": ([_contact("declined", 1)], "failed", "declined-by-person"),
    "in progress again once reached after failing": (
        [*(_contact("no-answer", m) for m in (1, 2, 3)), _contact("reached", 4)],
        "in-progress",
        "support-started",
    ),
}


async def _task(unit: FakeIntakeUnit, referral_id: str, reader: Principal = WRITER) -> TaskState:
    found = await intake.task_for_referral(unit, referral_id, reader)
    assert found is not None
    return found[1]


@pytest.mark.parametrize("path", list(PATHS))
async def test_the_task_follows_each_path_whatever_order_triages_events_arrive_in_around_the_case(path):
    records, status, business = PATHS[path]
    seen: set[TaskState] = set()
    for order in set(itertools.permutations([0, 1, 2, 2, 3])):  # the assignment twice: a redelivery
        unit = FakeIntakeUnit()
        referral_id = await _referral(unit)
        events = _triage_events(referral_id)
        triage = [events[i] for i in order]
        # The case can be worked once some connector holds it; the rest of triage's events come after.
        holding = next(i for i, e in enumerate(triage) if e.type in ("referral.assigned.v1", "referral.reassigned.v1"))
        for event in triage[: holding + 1]:
            await _apply(unit, event)
        for record in records:
            await record(unit, referral_id)
        for event in triage[holding + 1 :]:
            await _apply(unit, event)
        seen.add(await _task(unit, referral_id))
    [state] = seen
    assert (state.status, state.business_status) == (status, business)
    assert state.reason or state.note


async def test_a_completed_task_reports_goals_sessions_measures_and_onward_connections_as_typed_outputs():
    unit = FakeIntakeUnit()
    referral_id = await _referral(unit)
    for event in _triage_events(referral_id):
        await _apply(unit, event)
    for record in SUPPORTED:
        await record(unit, referral_id)
    referral = unit.referrals.by_id[referral_id]
    task = task_resource(referral, await _task(unit, referral_id))

    outputs = {(o["type"]["coding"][0]["code"], o.get("valueString", o.get("valueInteger"))) for o in task["output"]}
    assert outputs == {
        ("goal", "Join a walking group"),
        ("sessions-used", 1),
        ("ucla3-total-baseline", 8),
        ("ons-loneliness-baseline", "often-always"),
        ("ucla3-total-closing", 4),
        ("onward-connection", "Hyde Park walkers"),
    }
    assert {o["type"]["coding"][0]["system"] for o in task["output"]} == {
        "https://signpost.dev/fhir/CodeSystem/case-output"
    }
    assert (task["status"], task["statusReason"]["text"]) == (
        "completed",
        "The person was connected to community groups or services.",
    )
    assert "private" not in json.dumps(task)


@pytest.mark.parametrize(("withdrawal", "status"), [("revoked", "cancelled"), ("entered-in-error", "entered-in-error")])
async def test_a_withdrawn_referral_is_cancelled_or_entered_in_error_even_with_support_under_way(withdrawal, status):
    unit = FakeIntakeUnit()
    referral_id = await _referral(unit)
    for event in _triage_events(referral_id):
        await _apply(unit, event)
    await SUPPORTED[0](unit, referral_id)
    await intake.withdraw(unit, referral_id, WRITER, lambda _: withdrawal, if_match=None, correlation_id=None)
    await _apply(unit, _triage_events(referral_id)[2])  # a late redelivery changes nothing

    state = await _task(unit, referral_id)
    assert (state.status, state.business_status) == (status, "withdrawn" if withdrawal == "revoked" else status)
    assert state.reason


async def test_a_linked_referral_is_rejected_as_already_supported_and_names_the_open_one_only_to_its_own_referrer():
    unit = FakeIntakeUnit()
    open_referral = await _referral(unit)
    same_practice, other_practice = await _referral(unit), await _referral(unit, OTHER_PRACTICE)
    for referral_id in (same_practice, other_practice):
        await facts.record_link(unit, referral_linked(referral_id, linked_to_referral_id=open_referral))
        await facts.record_triage(unit, referral_triaged(referral_id, "accepted"))

    own = await _task(unit, same_practice)
    assert (own.status, own.business_status, own.linked_to) == ("rejected", "linked", open_referral)
    assert own.reason is not None
    assert own.reason.startswith("The person is already being supported")
    other = await _task(unit, other_practice, OTHER_PRACTICE)
    assert (other.status, other.linked_to) == ("rejected", None)
    task = task_resource(unit.referrals.by_id[same_practice], own)
    assert task["output"][0]["valueReference"] == {"reference": f"ServiceRequest/{open_referral}"}
