"""Thin event handlers: triage's events keep each referral's Task current."""

from __future__ import annotations

from collections.abc import Mapping

from referral_intake.service import IntakeService
from referral_intake.unit import IntakeUnit
from signpost_contracts import EventEnvelope
from signpost_runtime.consumer import EventHandler
from signpost_runtime.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Triage's events keep each referral's Task current (run in the consumer's unit of work)."""
    service = IntakeService()

    async def on_triaged(unit: IntakeUnit, event: EventEnvelope) -> None:
        await service.record_triage(unit, event)

    async def on_assigned(unit: IntakeUnit, event: EventEnvelope) -> None:
        await service.record_assignment(unit, event)

    async def on_waitlisted(unit: IntakeUnit, event: EventEnvelope) -> None:
        await service.record_waitlist(unit, event)

    return {
        "referral.triaged.v1": on_triaged,
        "referral.assigned.v1": on_assigned,
        "referral.waitlisted.v1": on_waitlisted,
    }
