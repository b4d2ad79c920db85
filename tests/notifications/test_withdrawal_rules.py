"""After a withdrawal the only message ever sent about the referral is its confirmation: any order, any repeat.

On the fake unit of work, with a fake dispatcher step (claim what is due, record it sent) run
between events or only at the end, so both "sent before the withdrawal was known" and "still
waiting when it arrived" are covered. The same rule runs on PostgreSQL in test_withdrawal_on_infra.py.
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from notifications import service
from notifications.domain.deliveries import RedriveSelection
from notifications.domain.retry import RetryPolicy
from notifications.domain.withdrawal import AFTER_WITHDRAWAL, CONFIRMED_ALREADY
from signpost_contracts import EventEnvelope
from support.events import (
    case_closed,
    referral_assigned_from_waitlist,
    referral_received,
    referral_waitlisted,
    referral_withdrawn,
)
from support.fakes.notifications import FakeUnit, apply_events

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(max_attempts=3, base_backoff_seconds=10, max_backoff_seconds=60)
REFERRAL = "ref-withdrawn-1"


async def dispatch(unit: FakeUnit) -> list[str]:
    """One dispatcher cycle in which every send succeeds: the kinds of message sent."""
    claimed = await service.claim_due(unit, owner="d", limit=100, lease_seconds=60, policy=POLICY, sent_earlier=())
    for delivery in claimed.to_send:
        assert (await service.record_sent(unit, delivery)).result == "sent"
    return [unit.deliveries.rows[d.notification_id].delivery.outcome.kind for d in claimed.to_send]


def statuses(unit: FakeUnit) -> dict[str, str]:
    return {row.delivery.outcome.kind: row.status for row in unit.deliveries.rows.values()}


async def test_a_withdrawal_before_the_assignment_it_follows_lets_only_the_confirmation_go():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), referral_withdrawn(REFERRAL))
    await apply_events(unit, referral_assigned_from_waitlist(REFERRAL), case_closed(REFERRAL))
    assert statuses(unit) == {"withdrawn": "pending", "assigned-from-waitlist": "suppressed", "closed": "suppressed"}
    assert await dispatch(unit) == ["withdrawn"]
    assert statuses(unit) == {"withdrawn": "sent", "assigned-from-waitlist": "suppressed", "closed": "suppressed"}
    suppressed = [row for row in unit.deliveries.rows.values() if row.status == "suppressed"]
    assert {row.suppressed_because for row in suppressed} == {AFTER_WITHDRAWAL}
    assert unit.events[-1].type == "notification.sent.v1"
    assert len(unit.events) == 1, "a suppressed message is not announced as sent or failed"


async def test_a_message_still_waiting_when_the_withdrawal_arrives_is_never_sent():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), referral_assigned_from_waitlist(REFERRAL))
    assert statuses(unit) == {"assigned-from-waitlist": "pending"}
    await apply_events(unit, referral_withdrawn(REFERRAL))
    assert statuses(unit) == {"assigned-from-waitlist": "suppressed", "withdrawn": "pending"}
    assert await dispatch(unit) == ["withdrawn"]


async def test_a_withdrawal_that_arrives_before_the_referral_itself_is_confirmed_once_the_referrer_is_known():
    unit = FakeUnit()
    await apply_events(unit, referral_withdrawn(REFERRAL), referral_assigned_from_waitlist(REFERRAL))
    assert unit.deliveries.rows == {}, "nobody to tell yet"
    await apply_events(unit, referral_received(REFERRAL))
    assert await dispatch(unit) == ["withdrawn"]


async def test_a_second_withdrawal_event_for_the_referral_is_not_confirmed_again():
    unit = FakeUnit()
    first, second = referral_withdrawn(REFERRAL), referral_withdrawn(REFERRAL, status="entered-in-error")
    await apply_events(unit, referral_received(REFERRAL), first, first, second)
    assert await dispatch(unit) == ["withdrawn"]
    by_event = {row.delivery.outcome.event_id: row for row in unit.deliveries.rows.values()}
    assert (by_event[first.id].status, by_event[second.id].status) == ("sent", "suppressed")
    assert by_event[second.id].suppressed_because == CONFIRMED_ALREADY


async def test_a_send_under_way_at_the_withdrawal_is_not_recalled_but_its_retry_is_never_sent():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), referral_assigned_from_waitlist(REFERRAL))
    claimed = await service.claim_due(unit, owner="d", limit=10, lease_seconds=60, policy=POLICY, sent_earlier=())
    [in_flight] = claimed.to_send
    await apply_events(unit, referral_withdrawn(REFERRAL))
    assert statuses(unit)["assigned-from-waitlist"] == "pending", "its SMTP exchange may already have begun"
    refused = await service.record_refusal(unit, in_flight, "451 try later", permanent=False, policy=POLICY)
    assert refused.result == "retry_scheduled"
    assert await dispatch(unit) == ["withdrawn"]
    assert statuses(unit) == {"assigned-from-waitlist": "suppressed", "withdrawn": "sent"}


async def test_a_failed_message_of_a_withdrawn_referral_is_not_redriven():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), referral_assigned_from_waitlist(REFERRAL))
    claimed = await service.claim_due(unit, owner="d", limit=10, lease_seconds=60, policy=POLICY, sent_earlier=())
    await service.record_refusal(unit, claimed.to_send[0], "550 no such mailbox", permanent=True, policy=POLICY)
    await apply_events(unit, referral_withdrawn(REFERRAL))
    redriven = await service.redrive(unit, RedriveSelection(referral_id=REFERRAL))
    assert redriven.redriven == []
    assert list(redriven.skipped.values()) == ["its referral was withdrawn: only the withdrawal is confirmed"]


def _journey() -> list[EventEnvelope]:
    """A waitlisted referral withdrawn, with repeats; intake's and triage's events interleaved every way."""
    referral_id = str(uuid.uuid4())
    waitlisted, assigned = referral_waitlisted(referral_id), referral_assigned_from_waitlist(referral_id)
    withdrawn = referral_withdrawn(referral_id)
    return [referral_received(referral_id), waitlisted, assigned, assigned, withdrawn, withdrawn]


@pytest.mark.parametrize("dispatch_between_events", [True, False], ids=["dispatched-at-once", "dispatched-at-end"])
async def test_in_every_order_with_repeats_nothing_but_one_confirmation_is_sent_once_the_withdrawal_is_known(
    dispatch_between_events,
):
    journey = _journey()
    by_id = {event.id: event for event in journey}
    orders = set(itertools.permutations(event.id for event in journey))
    for order in orders:
        unit, sent_after_withdrawal, sent = FakeUnit(), [], []
        for event_id in order:
            await apply_events(unit, by_id[event_id])
            if dispatch_between_events:
                kinds = await dispatch(unit)
                sent += kinds
                if await unit.referrals.is_withdrawn(journey[0].subject or ""):
                    sent_after_withdrawal += kinds
        kinds = await dispatch(unit)
        sent, sent_after_withdrawal = sent + kinds, sent_after_withdrawal + kinds
        assert sent_after_withdrawal == ["withdrawn"], f"order {order}: sent after the withdrawal {sent}"
        assert len(sent) == len(set(sent)), f"order {order}: something went twice: {sent}"
    assert len(orders) == 180  # 6! orders of six events, two pairs of which are the same event
