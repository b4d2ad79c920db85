"""A fake notifications unit: deliveries and referrer contacts in memory, events in a list.

`apply_events` feeds integration events through the service's own handler table, as the consumer does.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifications.adapters.templates import EmailTemplates
from notifications.config import NotificationsSettings
from notifications.domain.deliveries import (
    Claim,
    ClaimedDelivery,
    DeliveryStatus,
    Finished,
    NewDelivery,
    RedriveCandidate,
    RedriveSelection,
    UrgentAlert,
)
from notifications.domain.messages import Receipt
from notifications.domain.outcomes import WITHDRAWN, Outcome, PersonAddress, ReferrerContact, StageScores
from notifications.handlers import event_handlers
from notifications.service import Notifier
from signpost_contracts import EventEnvelope
from signpost_contracts.registry import REFERRAL_WITHDRAWN
from signpost_runtime.consumer import EventHandler


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
    suppressed_because: str | None = None
    provider_reference: str | None = None
    confirmed: bool = False
    receipt: str | None = None


class FakeDeliveries:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Row] = {}
        self.alerts: dict[str, UrgentAlert] = {}  # open urgent alerts by outcome event id
        self.withdrawn: set[str] = set()  # referral ids with a stored withdrawal (kept by FakeReferrals)

    async def add(self, delivery: NewDelivery) -> bool:
        if any(row.delivery.idempotency_key == delivery.idempotency_key for row in self.rows.values()):
            return False
        failed = delivery.failed_because if delivery.status == "failed" else None
        self.rows[delivery.notification_id] = Row(
            delivery, delivery.status, last_error=failed, suppressed_because=delivery.suppressed_because
        )
        return True

    async def confirms_withdrawal(self, referral_id: str) -> bool:
        return any(
            row.delivery.outcome.referral_id == referral_id
            and row.delivery.outcome.kind == WITHDRAWN
            and row.status != "suppressed"
            for row in self.rows.values()
        )

    def _withdrawn_but_not_confirmation(self, row: Row) -> bool:
        outcome = row.delivery.outcome
        return outcome.referral_id in self.withdrawn and outcome.kind != WITHDRAWN

    async def suppress_after_withdrawal(self, referral_id: str | None, reason: str) -> int:
        chosen = [
            row
            for row in self.rows.values()
            if row.status == "pending"
            and not row.leased  # a send under way cannot be recalled
            and referral_id in (None, row.delivery.outcome.referral_id)
            and self._withdrawn_but_not_confirmation(row)
        ]
        for row in chosen:
            row.status, row.suppressed_because = "suppressed", reason
        return len(chosen)

    async def claim_due(
        self, limit: int, lease_seconds: float, owner: str, channels: list[str]
    ) -> list[ClaimedDelivery]:
        due = [
            row
            for row in self.rows.values()
            if row.status == "pending" and not row.leased and row.delivery.channel in channels
        ][:limit]
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
            template=d.template,
            audience=d.audience,
            route_rank=d.route_rank,
        )

    def _held(self, delivery: ClaimedDelivery) -> Row | None:
        row = self.rows.get(delivery.notification_id)
        if row and row.status == "pending" and Claim(row.owner or "", row.claims) == delivery.claim:
            return row
        return None

    def _settle(self, row: Row, **changes: Any) -> None:
        for name, value in {"leased": False, "unrecorded_claims": 0, **changes}.items():
            setattr(row, name, value)

    async def mark_sent(
        self, delivery: ClaimedDelivery, *, provider_reference: str | None, confirmed: bool, awaits_receipt: bool
    ) -> Finished | None:
        if (row := self._held(delivery)) is None:
            return None
        self._settle(
            row,
            status="sent",
            attempts=row.attempts + 1,
            provider_reference=provider_reference,
            confirmed=confirmed,
            receipt="pending" if awaits_receipt else None,
        )
        return Finished(row.attempts, datetime.now(UTC))

    async def mark_delivered(self, notification_id: uuid.UUID, receipt: Receipt) -> bool:
        row = self.rows[notification_id]
        if row.receipt != "pending":
            return False
        row.receipt, row.confirmed = "delivered", True
        return True

    async def mark_undelivered(self, notification_id: uuid.UUID, receipt: Receipt, error: str) -> Finished | None:
        row = self.rows[notification_id]
        if row.receipt != "pending":
            return None
        row.receipt, row.status, row.last_error = receipt.status, "failed", error
        return Finished(row.attempts, datetime.now(UTC))

    async def keys_of_outcome(self, outcome_event_id: str) -> set[str]:
        return {
            row.delivery.idempotency_key
            for row in self.rows.values()
            if row.delivery.outcome.event_id == outcome_event_id
        }

    async def raise_urgent(self, outcome: Outcome, confirm_within_seconds: float) -> UrgentAlert | None:
        if outcome.event_id in self.alerts:
            return None
        now = datetime.now(UTC)
        self.alerts[outcome.event_id] = UrgentAlert(outcome.event_id, outcome.referral_id, now, now, 0, None)
        return self.alerts[outcome.event_id]

    async def confirm_urgent(self, outcome_event_id: str) -> bool:
        return self.alerts.pop(outcome_event_id, None) is not None

    async def urgent_due(self, limit: int) -> list[UrgentAlert]:
        # Every open alert is due at once: a test escalates by calling escalate_due.
        return list(self.alerts.values())[:limit]

    async def escalated(self, outcome_event_id: str, what: str, next_in_seconds: float) -> None:
        alert = self.alerts[outcome_event_id]
        self.alerts[outcome_event_id] = dataclasses.replace(
            alert, escalations=alert.escalations + 1, last_escalation=what
        )

    async def open_urgent(self) -> list[UrgentAlert]:
        return list(self.alerts.values())

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
            RedriveCandidate(
                nid,
                row.delivery.outcome.referral_id,
                row.status,
                row.delivery.recipient,
                row.last_error,
                referral_withdrawn=self._withdrawn_but_not_confirmation(row),
                channel=row.delivery.channel,
            )
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
        self.person_addresses: dict[str, PersonAddress] = {}
        self.outcomes: dict[str, tuple[Outcome, str]] = {}
        self.stage_scores: dict[tuple[str, str], tuple[datetime, str, StageScores]] = {}

    async def lock(self, referral_id: str) -> None:
        pass  # one fake unit at a time: nothing to serialise

    async def save_contact(self, contact: ReferrerContact, event_id: str) -> None:
        self.contacts.setdefault(contact.referral_id, contact)

    async def contact(self, referral_id: str) -> ReferrerContact | None:
        contact = self.contacts.get(referral_id)
        if contact is None or not contact.address_apart:
            return contact
        address = self.person_addresses.get(referral_id)
        return contact.model_copy(update={"email": address.email, "phone": address.phone}) if address else None

    async def save_person_address(self, address: PersonAddress, event_id: str) -> None:
        self.person_addresses[address.referral_id] = address

    async def forget_person_address(self, referral_id: str) -> None:
        self.person_addresses.pop(referral_id, None)

    async def save_outcome(self, outcome: Outcome, correlation_id: str) -> None:
        self.outcomes.setdefault(outcome.event_id, (outcome, correlation_id))
        if outcome.event_type == REFERRAL_WITHDRAWN.name:
            self.deliveries.withdrawn.add(outcome.referral_id)

    async def is_erased(self, referral_id: str) -> bool:
        return False  # erasure is tested on PostgreSQL (tests/notifications/test_erasure.py)

    async def is_withdrawn(self, referral_id: str) -> bool:
        return referral_id in self.deliveries.withdrawn

    async def save_scores(
        self, referral_id: str, stage: str, recorded_at: datetime, event_id: str, scores: StageScores
    ) -> None:
        kept = self.stage_scores.get((referral_id, stage))
        if kept is None or (recorded_at, event_id) > kept[:2]:
            self.stage_scores[(referral_id, stage)] = (recorded_at, event_id, scores)

    async def scores(self, referral_id: str) -> tuple[StageScores | None, StageScores | None]:
        baseline, closing = (self.stage_scores.get((referral_id, stage)) for stage in ("baseline", "closing"))
        return (baseline[2] if baseline else None), (closing[2] if closing else None)

    async def has_outcomes(self, referral_id: str) -> bool:
        return any(outcome.referral_id == referral_id for outcome, _ in self.outcomes.values())

    async def outcome(self, event_id: str) -> tuple[Outcome, str] | None:
        return self.outcomes.get(event_id)

    async def outcomes_without_delivery(self, referral_id: str) -> list[tuple[Outcome, str]]:
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


@functools.cache
def _handlers(notify_first_contact: bool, closure_includes_scores: bool) -> dict[str, EventHandler]:
    # Cached: building the templates' Jinja environment takes far longer than handling an event.
    settings = NotificationsSettings(notify_first_contact=notify_first_contact)
    return event_handlers(Notifier(EmailTemplates(), closure_includes_scores=closure_includes_scores), settings)


async def apply_events(
    unit: FakeUnit, *events: EventEnvelope, notify_first_contact: bool = False, closure_includes_scores: bool = False
) -> None:
    """Each event through the handler the consumer would call (types notifications ignores are skipped)."""
    handlers = _handlers(notify_first_contact, closure_includes_scores)
    for event in events:
        if event.type in handlers:
            await handlers[event.type](unit, event)  # type: ignore[arg-type]
