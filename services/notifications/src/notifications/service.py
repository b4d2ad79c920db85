"""Use cases run for each consumed event, inside that event's transaction.

A delivery needs two things that arrive on different topics in any order: the outcome (triage)
and the referrer's contact (referrals). Each event stores its half and then creates whatever
deliveries have become possible, so whichever arrives second creates the delivery. Sending is
not done here: the dispatcher sends outside any transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from notifications.adapters import repository
from notifications.adapters.repository import NewDelivery
from notifications.adapters.templates import EmailTemplates
from notifications.domain.deliveries import EMAIL, idempotency_key, notification_id, recipient_problem
from notifications.domain.outcomes import Outcome, ReferrerContact
from notifications.metrics import DELIVERY_ATTEMPTS
from signpost_contracts import new_event
from signpost_contracts.events.notifications import NotificationFailed
from signpost_runtime.outbox import Outbox

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, outbox: Outbox, templates: EmailTemplates) -> None:
        self.outbox = outbox
        self.templates = templates

    async def contact_received(self, conn: asyncpg.Connection, contact: ReferrerContact, event_id: str) -> None:
        await repository.lock_referral(conn, contact.referral_id)
        await repository.save_contact(conn, contact, event_id)
        await self._create_possible_deliveries(conn, contact.referral_id)

    async def outcome_decided(self, conn: asyncpg.Connection, outcome: Outcome, correlation_id: str) -> None:
        await repository.lock_referral(conn, outcome.referral_id)
        await repository.save_outcome(conn, outcome, correlation_id)
        await self._create_possible_deliveries(conn, outcome.referral_id)

    async def _create_possible_deliveries(self, conn: asyncpg.Connection, referral_id: str) -> None:
        contact = await repository.load_contact(conn, referral_id)
        if contact is None:
            return  # the outcome waits for referral.received.v1
        for outcome, correlation_id in await repository.outcomes_awaiting_delivery(conn, referral_id, EMAIL):
            delivery = self._delivery(outcome, contact, correlation_id)
            if await repository.insert_delivery(conn, delivery) and delivery.failed_because:
                await self._report_undeliverable(conn, delivery)

    def _delivery(self, outcome: Outcome, contact: ReferrerContact, correlation_id: str) -> NewDelivery:
        key = idempotency_key(outcome.event_id, EMAIL)
        content = self.templates.render(outcome, contact)
        return NewDelivery(
            notification_id=notification_id(key),
            idempotency_key=key,
            outcome=outcome,
            channel=EMAIL,
            recipient=contact.email,
            subject=content.subject,
            body=content.text,
            correlation_id=correlation_id,
            failed_because=recipient_problem(contact),
        )

    async def _report_undeliverable(self, conn: asyncpg.Connection, delivery: NewDelivery) -> None:
        reason = delivery.failed_because or ""
        log.warning("delivery %s cannot be attempted: %s", delivery.notification_id, reason)
        DELIVERY_ATTEMPTS.labels(EMAIL, "failed").inc()
        failed = NotificationFailed(
            referral_id=delivery.outcome.referral_id,
            notification_id=str(delivery.notification_id),
            about_event_type=delivery.outcome.event_type,
            channel=EMAIL,
            failed_at=datetime.now(UTC),
            attempts=0,
            last_error=reason,
        )
        event = new_event(
            failed,
            subject=delivery.outcome.referral_id,
            correlation_id=delivery.correlation_id,
            causation_id=delivery.outcome.event_id,
        )
        await self.outbox.add_event(conn, event)
