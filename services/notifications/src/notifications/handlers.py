"""Event handlers: parse the payload tolerantly, hand it to one use case.

Each runs inside the unit of work the consumer opened for the event (a NotificationsUnit), after
the inbox has claimed the event id, so a repeated event never reaches them.
"""

from __future__ import annotations

from notifications.domain.outcomes import (
    contact_of,
    outcome_of_assignment,
    outcome_of_triage,
    outcome_of_waitlisting,
)
from notifications.service import Notifier
from notifications.unit import NotificationsUnit
from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted
from signpost_contracts.registry import REFERRAL_ASSIGNED, REFERRAL_RECEIVED, REFERRAL_TRIAGED, REFERRAL_WAITLISTED
from signpost_runtime.consumer import EventHandler


def event_handlers(notifier: Notifier) -> dict[str, EventHandler]:
    async def on_received(unit: NotificationsUnit, event: EventEnvelope) -> None:
        await notifier.contact_received(unit, contact_of(read_data(ReferralReceived, event.data)), event.id)

    async def on_triaged(unit: NotificationsUnit, event: EventEnvelope) -> None:
        outcome = outcome_of_triage(event.id, event.type, read_data(ReferralTriaged, event.data))
        if outcome is not None:
            await notifier.outcome_decided(unit, outcome, event.correlationid)

    async def on_assigned(unit: NotificationsUnit, event: EventEnvelope) -> None:
        outcome = outcome_of_assignment(event.id, event.type, read_data(ReferralAssigned, event.data))
        await notifier.outcome_decided(unit, outcome, event.correlationid)

    async def on_waitlisted(unit: NotificationsUnit, event: EventEnvelope) -> None:
        outcome = outcome_of_waitlisting(event.id, event.type, read_data(ReferralWaitlisted, event.data))
        await notifier.outcome_decided(unit, outcome, event.correlationid)

    return {
        REFERRAL_RECEIVED.name: on_received,
        REFERRAL_TRIAGED.name: on_triaged,
        REFERRAL_ASSIGNED.name: on_assigned,
        REFERRAL_WAITLISTED.name: on_waitlisted,
    }
