"""The projection on a real broker and PostgreSQL: duplicates, cross-topic order, partial knowledge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.notifications import UrgentSettled, UrgentUnconfirmed
from support.infra import wait_until

pytestmark = pytest.mark.integration

STATUSES = ["awaiting-triage", "accepted", "assigned", "waitlisted", "declined", "redirected"]
ZERO_STATUSES = dict.fromkeys([*STATUSES, "closed", "withdrawn", "linked"], 0)
ZERO_DECISIONS = dict.fromkeys(["accepted", "declined", "redirected"], 0)


def _new_id() -> str:
    return f"ref-{uuid.uuid4()}"


def _counts(summary: dict) -> dict:
    """Everything in the summary but the time it was generated."""
    return {key: value for key, value in summary.items() if key != "generated_at"}


async def test_a_full_journey_is_counted_once_under_its_final_status(reporting, events):
    referral = _new_id()
    await reporting.deliver(*events.journey(referral))

    summary = await reporting.summary()

    assert summary["total_referrals"] == 1
    assert summary["awaiting_receipt"] == 0
    assert summary["by_status"] == {**ZERO_STATUSES, "assigned": 1}
    assert summary["by_decision"] == {**ZERO_DECISIONS, "accepted": 1}
    assert summary["notifications"] == {"sent": 1, "failed": 0}
    assert summary["by_referrer"] == [{"ods_code": "B82005", "referrals": 1, "declined": 0}]
    row = await reporting.row(referral)
    assert row["waitlisted_at"] is not None, "the waitlist fact stays recorded after the assignment"
    assert (row["age_band"], row["postcode_district"], row["connector_kind"]) == ("65-74", "LS6", "paid")


async def test_every_status_and_decision_is_counted_across_several_referrals(reporting, events):
    declined, redirected, waiting, accepted = (_new_id() for _ in range(4))
    batch = [
        events.received(declined), events.triaged(declined, "declined"),
        events.received(redirected), events.triaged(redirected, "redirected"),
        events.received(waiting), events.triaged(waiting), events.waitlisted(waiting),
        events.received(accepted), events.triaged(accepted),
        events.failed(declined),
    ]  # fmt: skip
    await reporting.deliver(*batch)

    summary = await reporting.summary()

    assert summary["total_referrals"] == 4
    assert summary["by_status"] == {**ZERO_STATUSES, "declined": 1, "redirected": 1, "waitlisted": 1, "accepted": 1}
    assert summary["by_decision"] == {"accepted": 2, "declined": 1, "redirected": 1}
    assert summary["notifications"] == {"sent": 0, "failed": 1}
    assert summary["by_referrer"] == [{"ods_code": "B82005", "referrals": 4, "declined": 1}]


async def test_duplicated_events_leave_the_counts_as_they_were(reporting, events):
    once, twice = _new_id(), _new_id()
    await reporting.deliver(*events.journey(once))
    expected = _counts(await reporting.summary())
    journey = events.journey(twice)
    await reporting.deliver(*journey)
    after_one_copy = _counts(await reporting.summary())
    recognised_before = reporting.duplicates_recognised()

    # Each event again, twice over: as if the producer's relay and the broker both redelivered.
    await reporting.publish(*journey, *reversed(journey))

    async def all_repeats_recognised() -> bool:
        return reporting.duplicates_recognised() - recognised_before >= 2 * len(journey)

    await wait_until(all_repeats_recognised, message="every repeat delivery to be recognised")
    assert reporting.duplicates_recognised() - recognised_before == 2 * len(journey)
    assert _counts(await reporting.summary()) == after_one_copy
    assert after_one_copy["total_referrals"] == expected["total_referrals"] + 1
    assert after_one_copy["by_status"]["assigned"] == 2
    assert after_one_copy["notifications"]["sent"] == 2


async def test_events_delivered_in_reverse_order_across_topics_reach_the_same_status_as_in_order(reporting, events):
    in_order, reversed_order = _new_id(), _new_id()
    await reporting.deliver(*events.journey(in_order))

    # One at a time, each applied before the next is sent, so the reverse order really is what
    # reporting sees: notification, assignment, waitlist place, decision, and the receipt last.
    for event in reversed(events.journey(reversed_order)):
        await reporting.deliver(event)

    first, second = await reporting.row(in_order), await reporting.row(reversed_order)
    assert second["status"] == first["status"] == "assigned"
    assert second["decision"] == first["decision"] == "accepted"
    comparable = ("channel", "priority", "age_band", "postcode_district", "needs", "referrer_kind",
                  "referrer_ods_code", "outcome", "complexity", "connector_kind")  # fmt: skip
    assert {c: second[c] for c in comparable} == {c: first[c] for c in comparable}
    summary = await reporting.summary()
    assert summary["by_status"] == {**ZERO_STATUSES, "assigned": 2}
    assert summary["notifications"]["sent"] == 2


async def test_a_decision_replayed_after_its_assignment_does_not_undo_the_assignment(reporting, events):
    referral = _new_id()
    await reporting.deliver(events.received(referral))
    await reporting.deliver(events.assigned(referral))
    assert (await reporting.row(referral))["status"] == "assigned"

    await reporting.deliver(events.triaged(referral))

    row = await reporting.row(referral)
    assert (row["status"], row["decision"], row["outcome"]) == ("assigned", "accepted", "accepted")


async def test_a_referral_known_only_from_triage_is_counted_and_flagged_as_awaiting_its_receipt(reporting, events):
    referral = _new_id()
    await reporting.deliver(events.triaged(referral, "declined"))

    early = await reporting.summary()
    assert early["total_referrals"] == 1
    assert early["awaiting_receipt"] == 1
    assert early["by_status"] == {**ZERO_STATUSES, "declined": 1}
    assert early["by_decision"] == {**ZERO_DECISIONS, "declined": 1}
    assert early["by_referrer"] == [{"ods_code": None, "referrals": 1, "declined": 1}]

    await reporting.deliver(events.received(referral))

    late = await reporting.summary()
    assert late["total_referrals"] == 1, "the receipt completes the referral, it does not add one"
    assert late["awaiting_receipt"] == 0
    assert late["by_status"] == early["by_status"]
    assert late["by_referrer"] == [{"ods_code": "B82005", "referrals": 1, "declined": 1}]


async def test_a_notification_that_failed_and_was_later_sent_counts_once_as_sent(reporting, events):
    referral = _new_id()
    notification = str(uuid.uuid4())
    await reporting.deliver(events.received(referral), events.failed(referral, notification))
    assert (await reporting.summary())["notifications"] == {"sent": 0, "failed": 1}

    await reporting.deliver(events.sent(referral, notification))

    assert (await reporting.summary())["notifications"] == {"sent": 1, "failed": 0}


def _urgent(referral_id: str, outcome_event_id: str, escalations: int) -> EventEnvelope:
    payload = UrgentUnconfirmed(
        referral_id=referral_id,
        outcome_event_id=outcome_event_id,
        raised_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        escalations=escalations,
        last_escalation=None if escalations == 0 else "the duty coordinator told by sms",
        at=datetime.now(UTC),
    )
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


def _settled(referral_id: str, outcome_event_id: str, how: str = "acknowledged") -> EventEnvelope:
    payload = UrgentSettled(
        referral_id=referral_id, outcome_event_id=outcome_event_id, settled_at=datetime.now(UTC), how=how
    )
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


async def test_urgent_messages_not_yet_confirmed_are_counted_until_settled_whatever_is_replayed(reporting):
    first, second = _new_id(), _new_id()
    await reporting.deliver(_urgent(first, "e-1", 0), _urgent(first, "e-1", 1), _urgent(second, "e-2", 0))
    urgent = (await reporting.summary())["urgent"]
    assert urgent == {"unconfirmed": 2, "oldest_raised_at": "2026-12-01T09:00:00Z", "most_escalations": 1}

    await reporting.deliver(_settled(first, "e-1"), _urgent(first, "e-1", 2))  # a replayed step after it settled
    assert (await reporting.summary())["urgent"]["unconfirmed"] == 1

    await reporting.deliver(_settled(second, "e-2", "confirmed"), _settled(second, "e-2", "confirmed"))
    assert (await reporting.summary())["urgent"] == {"unconfirmed": 0, "oldest_raised_at": None, "most_escalations": 0}
