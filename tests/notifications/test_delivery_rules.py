"""The service layer on a fake unit of work (Cosmic Python's test_handlers.py style): rules in milliseconds.

The fake keeps deliveries, contacts and outcomes in dictionaries and mirrors the repositories'
contract (fencing included); the same rules run on PostgreSQL in the integration tests beside these.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from notifications import service
from notifications.adapters.templates import EmailTemplates
from notifications.domain.deliveries import (
    RedriveSelection,
)
from notifications.domain.outcomes import Outcome, ReferrerContact
from notifications.domain.retry import RetryPolicy
from notifications.service import Notifier
from signpost_runtime.auth import Principal
from support.fakes.notifications import FakeUnit

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(max_attempts=3, base_backoff_seconds=10, max_backoff_seconds=60, max_unrecorded_claims=2)
CONTACT = ReferrerContact(
    referral_id="ref-1", email="gp@example.nhs.uk", organisation_name="Leeds Road Surgery", ods_code="B82005"
)


def _outcome(event_id: str = "evt-1", referral_id: str = "ref-1") -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type="referral.assigned.v1",
        referral_id=referral_id,
        kind="assigned",
        occurred_at=datetime.now(UTC),
        connector_kind="paid",
    )


async def _unit_with_delivery(contact: ReferrerContact = CONTACT) -> FakeUnit:
    unit = FakeUnit()
    notifier = Notifier(EmailTemplates())
    await notifier.outcome_decided(unit, _outcome(referral_id=contact.referral_id), "corr-1")
    await notifier.contact_received(unit, contact, "received-1")
    return unit


async def _claim(
    unit: FakeUnit, owner: str = "me", sent_earlier: frozenset[uuid.UUID] = frozenset()
) -> service.Claimed:
    return await service.claim_due(
        unit, owner=owner, limit=10, lease_seconds=60, policy=POLICY, sent_earlier=sent_earlier
    )


async def test_an_outcome_waits_for_its_referral_and_becomes_one_delivery_when_the_contact_arrives():
    unit = FakeUnit()
    notifier = Notifier(EmailTemplates())
    await notifier.outcome_decided(unit, _outcome(), "corr-1")
    assert unit.deliveries.rows == {}
    await notifier.contact_received(unit, CONTACT, "received-1")
    await notifier.outcome_decided(unit, _outcome(), "corr-1")  # the same outcome again
    [row] = unit.deliveries.rows.values()
    assert (row.status, row.delivery.recipient) == ("pending", "gp@example.nhs.uk")
    assert "accepted and a connector assigned" in row.delivery.subject
    assert unit.events == []


async def test_a_referrer_who_cannot_be_emailed_is_reported_failed_at_once():
    unit = await _unit_with_delivery(CONTACT.model_copy(update={"email": "gp@example"}))
    [row] = unit.deliveries.rows.values()
    assert row.status == "failed"
    assert unit.types() == ["notification.failed.v1"]
    assert unit.events[0].data["attempts"] == 0
    assert "unusable referrer email address" in unit.events[0].data["last_error"]
    assert "gp@example" not in unit.events[0].data["last_error"], "the address stays out of the failure event"


async def test_a_recorded_send_is_announced_with_the_attempts_it_took():
    unit = await _unit_with_delivery()
    [delivery] = (await _claim(unit)).to_send
    recorded = await service.record_sent(unit, delivery)
    assert (recorded.result, recorded.attempts) == ("sent", 1)
    assert unit.types() == ["notification.sent.v1"]
    assert unit.events[0].causationid == "evt-1"


async def test_a_send_recorded_after_another_claim_took_over_is_not_recorded_and_is_reported():
    unit = await _unit_with_delivery()
    [mine] = (await _claim(unit, owner="me")).to_send
    unit.deliveries.rows[mine.notification_id].leased = False  # my lease ran out
    await _claim(unit, owner="another replica")
    recorded = await service.record_sent(unit, mine)
    assert (recorded.result, recorded.now_status) == ("fenced_out", "pending")
    assert unit.events == []
    assert unit.deliveries.rows[mine.notification_id].owner == "another replica"


async def test_a_record_whose_commit_reply_was_lost_is_not_mistaken_for_a_duplicate():
    unit = await _unit_with_delivery()
    [delivery] = (await _claim(unit)).to_send
    await service.record_sent(unit, delivery)  # committed, but the dispatcher never heard back
    again = await service.record_sent(unit, delivery)
    assert again.result == "sent"


async def test_a_transient_refusal_is_an_attempt_and_is_retried_with_backoff():
    unit = await _unit_with_delivery()
    [delivery] = (await _claim(unit)).to_send
    recorded = await service.record_refusal(unit, delivery, "SMTP 451 try later", permanent=False, policy=POLICY)
    assert (recorded.result, recorded.attempts, recorded.retry_in) == ("retry_scheduled", 1, 10)
    row = unit.deliveries.rows[delivery.notification_id]
    assert (row.status, row.attempts, row.leased) == ("pending", 1, False)
    assert unit.events == []


async def test_a_permanent_refusal_fails_at_once_and_is_announced():
    unit = await _unit_with_delivery()
    [delivery] = (await _claim(unit)).to_send
    recorded = await service.record_refusal(unit, delivery, "SMTP 550 no such user", permanent=True, policy=POLICY)
    assert (recorded.result, recorded.attempts) == ("failed", 1)
    assert unit.types() == ["notification.failed.v1"]
    assert unit.events[0].data["last_error"] == "SMTP 550 no such user"


async def test_a_refusal_quoting_the_recipient_is_announced_without_their_address():
    unit = await _unit_with_delivery()
    [delivery] = (await _claim(unit)).to_send
    reply = f"SMTP 550 5.1.1 <{delivery.recipient}>: Recipient address rejected"
    await service.record_refusal(unit, delivery, reply, permanent=True, policy=POLICY)
    assert unit.events[0].data["last_error"] == "SMTP 550 5.1.1 <[email address]>: Recipient address rejected"
    assert unit.deliveries.rows[delivery.notification_id].last_error == unit.events[0].data["last_error"]


async def test_transient_refusals_give_up_after_the_last_attempt():
    unit = await _unit_with_delivery()
    for _ in range(POLICY.max_attempts):
        [delivery] = (await _claim(unit)).to_send
        recorded = await service.record_refusal(unit, delivery, "SMTP 451", permanent=False, policy=POLICY)
    assert (recorded.result, recorded.attempts) == ("failed", 3)
    assert unit.types() == ["notification.failed.v1"]


async def test_an_unreachable_provider_spends_no_attempt_however_often_it_happens():
    unit = await _unit_with_delivery()
    for _ in range(POLICY.max_attempts * 10):
        [delivery] = (await _claim(unit)).to_send
        recorded = await service.record_provider_unavailable(unit, delivery, "connection refused")
        assert recorded.result == "waiting_for_provider"
    row = unit.deliveries.rows[delivery.notification_id]
    assert (row.status, row.attempts, row.unrecorded_claims) == ("pending", 0, 0)
    assert unit.events == []


async def test_a_delivery_claimed_too_often_without_a_result_is_failed_with_the_reason():
    unit = await _unit_with_delivery()
    for _ in range(POLICY.max_unrecorded_claims):  # each dispatcher died before recording anything
        [delivery] = (await _claim(unit)).to_send
        unit.deliveries.rows[delivery.notification_id].leased = False
    claimed = await _claim(unit)
    assert claimed.to_send == []
    [abandoned] = claimed.abandoned
    row = unit.deliveries.rows[abandoned.notification_id]
    assert (row.status, row.attempts) == ("failed", 0)
    assert "claimed 2 times with no result recorded" in (row.last_error or "")
    assert unit.types() == ["notification.failed.v1"]
    assert "redrive" in unit.events[0].data["last_error"]


async def test_a_delivery_this_dispatcher_sent_earlier_is_never_abandoned():
    unit = await _unit_with_delivery()
    for _ in range(POLICY.max_unrecorded_claims):
        [delivery] = (await _claim(unit)).to_send
        unit.deliveries.rows[delivery.notification_id].leased = False
    claimed = await _claim(unit, sent_earlier=frozenset({delivery.notification_id}))
    assert [d.notification_id for d in claimed.to_send] == [delivery.notification_id]
    assert unit.events == []


async def test_redrive_sends_failed_deliveries_again_and_says_why_it_skips_the_others():
    unit = await _unit_with_delivery()
    notifier = Notifier(EmailTemplates())
    [delivery] = (await _claim(unit)).to_send
    await service.record_refusal(unit, delivery, "SMTP 550", permanent=True, policy=POLICY)
    unusable = CONTACT.model_copy(update={"referral_id": "ref-2", "email": "not-an-address"})
    await notifier.outcome_decided(unit, _outcome("evt-2", "ref-2"), "corr-2")
    await notifier.contact_received(unit, unusable, "received-2")
    [undeliverable] = [nid for nid, row in unit.deliveries.rows.items() if row.delivery.outcome.event_id == "evt-2"]
    unknown = uuid.uuid4()

    result = await service.redrive(
        unit, RedriveSelection(notification_ids=(delivery.notification_id, undeliverable, unknown))
    )

    assert result.redriven == [delivery.notification_id]
    assert "cannot be emailed" in result.skipped[undeliverable]
    assert result.skipped[unknown] == "no delivery has this notification id"
    row = unit.deliveries.rows[delivery.notification_id]
    assert (row.status, row.attempts, row.unrecorded_claims) == ("pending", 0, 0)
    again = await service.redrive(unit, RedriveSelection(notification_ids=(delivery.notification_id,)))
    assert again.redriven == []
    assert "it is pending" in again.skipped[delivery.notification_id]


async def test_redrive_all_failed_takes_only_failed_deliveries():
    unit = await _unit_with_delivery()
    assert (await service.redrive(unit, RedriveSelection(all_failed=True))).redriven == []
    [delivery] = (await _claim(unit)).to_send
    await service.record_refusal(unit, delivery, "SMTP 550", permanent=True, policy=POLICY)
    assert (await service.redrive(unit, RedriveSelection(all_failed=True))).redriven == [delivery.notification_id]


def _reader(ods: str | None, *scopes: str) -> Principal:
    return Principal("someone", frozenset(("notifications:read", *scopes)), ods)


async def test_another_organisations_referral_is_as_invisible_as_an_unknown_one():
    unit = await _unit_with_delivery()
    assert await service.deliveries_visible_to(unit, _reader("Y12345"), "ref-1") is None
    assert await service.deliveries_visible_to(unit, _reader("Y12345"), "no-such-referral") is None
    assert len(await service.deliveries_visible_to(unit, _reader("B82005"), "ref-1") or []) == 1
    assert len(await service.deliveries_visible_to(unit, _reader(None, "referrals:read-all"), "ref-1") or []) == 1


async def test_only_staff_see_a_referral_whose_referral_details_have_not_arrived():
    unit = FakeUnit()
    await Notifier(EmailTemplates()).outcome_decided(unit, _outcome(), "corr-1")
    assert await service.deliveries_visible_to(unit, _reader("B82005"), "ref-1") is None
    assert await service.deliveries_visible_to(unit, _reader(None, "referrals:read-all"), "ref-1") == []
    assert await service.deliveries_visible_to(unit, _reader(None, "referrals:read-all"), "unknown") is None
