"""The Task follows the referral as triage's events arrive: in order, out of order, or more than once."""

from __future__ import annotations

from datetime import datetime

import pytest

from support.auth import bearer
from support.infra import wait_until

pytestmark = pytest.mark.integration

READER = bearer("referrals:read", ods="B82005")


async def _task(intake, referral_id: str) -> dict:
    response = await intake.task_for(referral_id)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    return bundle["entry"][0]["resource"]


async def _applied(intake, *events) -> None:
    ids = [event.id for event in events]

    async def all_applied() -> bool:
        done = await intake.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", ids)
        return done == len(set(ids))

    await wait_until(all_applied, message=f"{len(set(ids))} triage events to be applied")


async def test_a_new_referral_has_a_requested_task_focused_on_it(intake, make):
    referral_id = (await intake.post(make.referral())).json()["id"]
    task = await _task(intake, referral_id)
    assert task["status"] == "requested"
    assert task["intent"] == "order"
    assert task["focus"]["reference"] == f"ServiceRequest/{referral_id}"
    assert "businessStatus" not in task
    read = await intake.client.get(f"/fhir/Task/{task['id']}", headers=READER)
    assert read.json() == task


async def test_the_task_goes_from_requested_to_accepted_then_assigned(intake, make):
    referral_id = (await intake.post(make.referral())).json()["id"]
    decision = make.triaged(referral_id, "accepted")
    await intake.publish(decision)
    await _applied(intake, decision)
    task = await _task(intake, referral_id)
    assert (task["status"], task.get("businessStatus")) == ("accepted", None)

    assignment = make.assigned(referral_id)
    await intake.publish(assignment)
    await _applied(intake, assignment)
    task = await _task(intake, referral_id)
    assert task["status"] == "accepted"
    assert task["businessStatus"]["text"] == "assigned"
    assert "LS6" in task["note"][0]["text"]


async def test_a_declined_and_a_redirected_referral_are_rejected_saying_why_and_where(intake, make):
    declined_id = (await intake.post(make.referral(postcode="M1 1AE"))).json()["id"]
    redirected_id = (await intake.post(make.referral(risk_flags=["self-harm-risk"]))).json()["id"]
    events = [make.triaged(declined_id, "declined"), make.triaged(redirected_id, "redirected")]
    await intake.publish(*events)
    await _applied(intake, *events)

    declined = await _task(intake, declined_id)
    assert declined["status"] == "rejected"
    assert "Leeds service area" in declined["statusReason"]["text"]
    redirected = await _task(intake, redirected_id)
    assert redirected["status"] == "rejected"
    assert "Leeds mental health crisis team" in redirected["statusReason"]["text"]
    assert redirected["output"][0]["valueString"].startswith("Leeds mental health crisis team")


async def test_out_of_order_and_duplicated_events_still_end_assigned(intake, make):
    referral_id = (await intake.post(make.referral())).json()["id"]
    decision = make.triaged(referral_id, "accepted", at=0)
    waitlisting = make.waitlisted(referral_id, at=1)
    assignment = make.assigned(referral_id, at=2)
    # As after a dead-letter replay: the assignment first, then the rest, everything twice.
    await intake.publish(assignment, assignment, waitlisting, decision, waitlisting, decision)
    await _applied(intake, assignment, waitlisting, decision)

    task = await _task(intake, referral_id)
    assert task["status"] == "accepted"
    assert task["businessStatus"]["text"] == "assigned", "assigned beats waitlisted whatever the order"
    assert datetime.fromisoformat(task["lastModified"]) == make.at(2)


async def test_a_waitlisted_referral_shows_waitlisted_until_assigned(intake, make):
    referral_id = (await intake.post(make.referral())).json()["id"]
    waitlisting = make.waitlisted(referral_id)
    await intake.publish(waitlisting)
    await _applied(intake, waitlisting)
    task = await _task(intake, referral_id)
    assert (task["status"], task["businessStatus"]["text"]) == ("accepted", "waitlisted")
    assert "every connector in LS6 is full" in task["note"][0]["text"]


async def test_searching_without_focus_or_for_an_unknown_referral(intake):
    # Without focus: every Task the caller may read (none yet), the polling search of test_fhir_search.py.
    everything = await intake.client.get("/fhir/Task", headers=READER)
    assert everything.status_code == 200
    assert everything.json()["total"] == 0

    unknown = await intake.task_for("not-a-referral")
    assert unknown.status_code == 200
    assert unknown.json()["total"] == 0

    wrong_type = await intake.client.get("/fhir/Task", params={"focus": "Patient/1"}, headers=READER)
    assert wrong_type.status_code == 400
