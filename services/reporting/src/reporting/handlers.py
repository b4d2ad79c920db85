"""Event handlers: parse tolerantly, reduce to a fact, apply it. The inbox already ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reporting import service
from reporting.adapters import events
from reporting.domain.facts import NotificationOutcome, ReferralFact
from reporting.unit import ReportingUnit
from signpost_contracts import ContractModel, EventEnvelope, read_data
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted
from signpost_contracts.registry import (
    NOTIFICATION_FAILED,
    NOTIFICATION_SENT,
    REFERRAL_ASSIGNED,
    REFERRAL_RECEIVED,
    REFERRAL_TRIAGED,
    REFERRAL_WAITLISTED,
)
from signpost_runtime.consumer import EventHandler
from signpost_runtime.runtime import ServiceRuntime

PayloadT = TypeVar("PayloadT", bound=ContractModel)


def _referral_handler(model: type[PayloadT], to_fact: Callable[[PayloadT], ReferralFact]) -> EventHandler:
    async def handle(unit: ReportingUnit, event: EventEnvelope) -> None:
        await service.record_referral_fact(unit, to_fact(read_data(model, event.data)))

    return handle


def _notification_handler(model: type[PayloadT], to_outcome: Callable[[PayloadT], NotificationOutcome]) -> EventHandler:
    async def handle(unit: ReportingUnit, event: EventEnvelope) -> None:
        await service.record_notification(unit, to_outcome(read_data(model, event.data)))

    return handle


def event_handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
    """Every event type reporting reads; the kit ignores any other type it meets on these topics."""
    return {
        REFERRAL_RECEIVED.name: _referral_handler(ReferralReceived, events.received),
        REFERRAL_TRIAGED.name: _referral_handler(ReferralTriaged, events.triaged),
        REFERRAL_ASSIGNED.name: _referral_handler(ReferralAssigned, events.assigned),
        REFERRAL_WAITLISTED.name: _referral_handler(ReferralWaitlisted, events.waitlisted),
        NOTIFICATION_SENT.name: _notification_handler(NotificationSent, events.notification_sent),
        NOTIFICATION_FAILED.name: _notification_handler(NotificationFailed, events.notification_failed),
    }
