"""The service layer on a fake unit of work (Cosmic Python's test_handlers.py style): rules in milliseconds.

The fake keeps deliveries, contacts and outcomes in dictionaries and mirrors the repositories'
contract (fencing included); the same rules run on PostgreSQL in the integration tests beside these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications import service
from notifications.adapters.templates import EmailTemplates
from notifications.domain.deliveries import (
    Claim,
    ClaimedDelivery,
    DeliveryStatus,
    Finished,
    NewDelivery,
    RedriveCandidate,
    RedriveSelection,
)
from notifications.domain.outcomes import Outcome, ReferrerContact
from notifications.domain.retry import RetryPolicy
from notifications.service import Notifier
from signpost_contracts import EventEnvelope
from signpost_runtime.auth import Principal

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(max_attempts=3, base_backoff_seconds=10, max_backoff_seconds=60, max_unrecorded_claims=2)
CONTACT = ReferrerContact(
    referral_id="ref-1", email="gp@example.nhs.uk", organisation_name="Leeds Road Surgery", ods_code="B82005"
)


@dataclass
class Row:
    delivery: NewDelivery
    status: DeliveryStatus
    attempts: int = 0
    claims: int = 0
    unrecorded_claims: int = 0
    owner: str | None = None
    leased: bool = False
    last_error: str | None = None
    retry_in: float | None = None


class FakeDeliveries:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Row] = {}

    async def add(self, delivery: NewDelivery) -> bool:
        if any(row.delivery.idempotency_key == delivery.idempotency_key for row in self.rows.values()):
            return False
        status: DeliveryStatus = "failed" if delivery.failed_because else "pending"
        self.rows[delivery.notification_id] = Row(delivery, status, last_error=delivery.failed_because)
        return True

    async def claim_due(self, limit: int, lease_seconds: float, owner: str) -> list[ClaimedDelivery]:
        due = [row for row in self.rows.values() if row.status == "pending" and not row.leased][:limit]
        for row in due:
            row.claims, row.unrecorded_claims, row.owner, row.leased = (
                row.claims + 1,
                row.unrecorded_claims + 1,
                owner,
                True,
            )
        return [self.claimed(row) for row in due]

    def claimed(self, row: Row) -> ClaimedDelivery:
        d = row.delivery
        return ClaimedDelivery(
            notification_id=d.notification_id,
            idempotency_key=d.idempotency_key,
            referral_id=d.outcome.referral_id,
            outcome_event_id=d.outcome.event_id,
            about_event_type=d.outcome.event_type,
            channel=d.channel,
            recipient=d.recipient or "",
            subject=d.subject,
            body=d.body,
            correlation_id=d.correlation_id,
            attempts=row.attempts,
            unrecorded_claims=row.unrecorded_claims,
            claim=Claim(row.owner or "", row.claims),
        )

    def _held(self, delivery: ClaimedDelivery) -> Row | None:
        row = self.rows.get(delivery.notification_id)
        if row and row.status == "pending" and Claim(row.owner or "", row.claims) == delivery.claim:
            return row
        return None

    def _settle(self, row: Row, **changes: Any) -> None:
        for name, value in {"leased": False, "unrecorded_claims": 0, **changes}.items():
            setattr(row, name, value)

    async def mark_sent(self, delivery: ClaimedDelivery) -> Finished | None:
        if (row := self._held(delivery)) is None:
            return None
        self._settle(row, status="sent", attempts=row.attempts + 1)
        return Finished(row.attempts, datetime.now(UTC))

    async def mark_failed(self, delivery: ClaimedDelivery, error: str, *, attempted: bool) -> Finished | None:
        if (row := self._held(delivery)) is None:
            return None
        self._settle(row, status="failed", attempts=row.attempts + int(attempted), last_error=error)
        return Finished(row.attempts, datetime.now(UTC))

    async def schedule_retry(self, delivery: ClaimedDelivery, delay_seconds: float, error: str) -> bool:
        if (row := self._held(delivery)) is None:
            return False
        self._settle(row, attempts=row.attempts + 1, last_error=error, retry_in=delay_seconds)
        return True

    async def wait_for_provider(self, delivery: ClaimedDelivery, error: str) -> bool:
        if (row := self._held(delivery)) is None:
            return False
        self._settle(row, last_error=error)
        return True

    async def holder_of(self, notification_id: uuid.UUID) -> tuple[DeliveryStatus, Claim | None] | None:
        row = self.rows.get(notification_id)
        return None if row is None else (row.status, Claim(row.owner, row.claims) if row.owner else None)

    async def redrive_candidates(self, selection: RedriveSelection) -> list[RedriveCandidate]:
        def chosen(row: Row) -> bool:
            if selection.notification_ids:
                return row.delivery.notification_id in selection.notification_ids
            if selection.referral_id:
                return row.delivery.outcome.referral_id == selection.referral_id and row.status == "failed"
            return selection.all_failed and row.status == "failed"

        return [
            RedriveCandidate(nid, row.delivery.outcome.referral_id, row.status, row.delivery.recipient, row.last_error)
            for nid, row in self.rows.items()
            if chosen(row)
        ]

    async def redrive(self, notification_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        back = [nid for nid in notification_ids if self.rows[nid].status == "failed"]
        for nid in back:
            self._settle(self.rows[nid], status="pending", attempts=0, owner=None)
        return back

    async def of_referral(self, referral_id: str) -> list[dict[str, Any]]:
        return [
            {"notification_id": nid, "status": row.status}
            for nid, row in self.rows.items()
            if row.delivery.outcome.referral_id == referral_id
        ]


class FakeReferrals:
    def __init__(self, deliveries: FakeDeliveries) -> None:
        self.deliveries = deliveries
        self.contacts: dict[str, ReferrerContact] = {}
        self.outcomes: dict[str, tuple[Outcome, str]] = {}

    async def lock(self, referral_id: str) -> None:
        pass  # one fake unit at a time: nothing to serialise

    async def save_contact(self, contact: ReferrerContact, event_id: str) -> None:
        self.contacts.setdefault(contact.referral_id, contact)

    async def contact(self, referral_id: str) -> ReferrerContact | None:
        return self.contacts.get(referral_id)

    async def save_outcome(self, outcome: Outcome, correlation_id: str) -> None:
        self.outcomes.setdefault(outcome.event_id, (outcome, correlation_id))

    async def has_outcomes(self, referral_id: str) -> bool:
        return any(outcome.referral_id == referral_id for outcome, _ in self.outcomes.values())

    async def outcomes_without_delivery(self, referral_id: str, channel: str) -> list[tuple[Outcome, str]]:
        delivered = {row.delivery.outcome.event_id for row in self.deliveries.rows.values()}
        return [
            (outcome, correlation_id)
            for outcome, correlation_id in self.outcomes.values()
            if outcome.referral_id == referral_id and outcome.event_id not in delivered
        ]


@dataclass
class FakeUnit:
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    referrals: FakeReferrals = field(init=False)
    events: list[EventEnvelope] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.referrals = FakeReferrals(self.deliveries)

    def publish(self, *events: EventEnvelope) -> None:
        self.events.extend(events)

    def types(self) -> list[str]:
        return [event.type for event in self.events]


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
