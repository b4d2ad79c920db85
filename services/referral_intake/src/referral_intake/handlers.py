"""Thin event handlers: triage's events keep each referral's Task and case current."""

from __future__ import annotations

from collections.abc import Mapping

from referral_intake.triage_facts import TriageFacts
from referral_intake.unit import IntakeUnit
from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.triage import ServiceStatus
from signpost_contracts.registry import (
    HANDOVER_REFUSED,
    REASSIGNMENT_REFUSED,
    REFERRAL_ASSIGNED,
    REFERRAL_ASSIGNED_FROM_WAITLIST,
    REFERRAL_HANDED_OVER,
    REFERRAL_LINKED,
    REFERRAL_REASSIGNED,
    REFERRAL_TRIAGED,
    REFERRAL_WAITLISTED,
    SERVICE_STATUS,
)
from signpost_runtime.consumer import EventHandler
from signpost_runtime.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Run in the consumer's unit of work, one use case each."""
    facts = TriageFacts()

    async def on_triaged(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_triage(unit, event)

    async def on_assigned(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_assignment(unit, event)

    async def on_waitlisted(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_waitlist(unit, event)

    async def on_moved(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_move(unit, event)

    async def on_refused(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_refusal(unit, event)

    async def on_linked(unit: IntakeUnit, event: EventEnvelope) -> None:
        await facts.record_link(unit, event)

    async def on_service_status(unit: IntakeUnit, event: EventEnvelope) -> None:
        await unit.service_status.keep_if_newer(read_data(ServiceStatus, event.data))

    return {
        REFERRAL_TRIAGED.name: on_triaged,
        REFERRAL_ASSIGNED.name: on_assigned,
        REFERRAL_ASSIGNED_FROM_WAITLIST.name: on_assigned,
        REFERRAL_WAITLISTED.name: on_waitlisted,
        REFERRAL_HANDED_OVER.name: on_moved,
        REFERRAL_REASSIGNED.name: on_moved,
        HANDOVER_REFUSED.name: on_refused,
        REASSIGNMENT_REFUSED.name: on_refused,
        REFERRAL_LINKED.name: on_linked,
        SERVICE_STATUS.name: on_service_status,
    }
