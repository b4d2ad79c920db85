"""Event handlers: parse tolerantly, reduce to a fact, apply it. The inbox already ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reporting import service
from reporting.adapters import events
from reporting.domain.facts import NotificationOutcome, ReferralFact
from reporting.unit import ReportingUnit
from signpost_contracts import ContractModel, EventEnvelope, Stream, read_data
from signpost_contracts.events.cases import (
    CaseClosed,
    ContactRecorded,
    MeasuresRecorded,
    ReferralWithdrawn,
    SessionRecorded,
)
from signpost_contracts.events.notifications import (
    NotificationFailed,
    NotificationSent,
    UrgentSettled,
    UrgentUnconfirmed,
)
from signpost_contracts.events.operations import PipelineHealth
from signpost_contracts.events.referrals import ReferralReceivedV2
from signpost_contracts.events.triage import (
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
    RosterCaseloads,
)
from signpost_contracts.registry import (
    CASE_CLOSED,
    CONTACT_RECORDED,
    MEASURES_RECORDED,
    NOTIFICATION_FAILED,
    NOTIFICATION_SENT,
    PIPELINE_HEALTH,
    REFERRAL_ASSIGNED,
    REFERRAL_ASSIGNED_FROM_WAITLIST,
    REFERRAL_HANDED_OVER,
    REFERRAL_LINKED,
    REFERRAL_REASSIGNED,
    REFERRAL_RECEIVED_VERSIONS,
    REFERRAL_TRIAGED,
    REFERRAL_WAITLISTED,
    REFERRAL_WITHDRAWN,
    ROSTER_CASELOADS,
    SESSION_RECORDED,
    URGENT_SETTLED,
    URGENT_UNCONFIRMED,
)
from signpost_runtime.consumer import EventHandler
from signpost_runtime.runtime import ServiceRuntime

PayloadT = TypeVar("PayloadT", bound=ContractModel)

# Every stream the projection is built from: the service subscribes to these and a rebuild reads them whole.
CONSUMES = (Stream.REFERRALS, Stream.TRIAGE, Stream.NOTIFICATIONS)
# Also read live, never rebuilt: every service's pipeline health, current figures a rebuild carries over.
LIVE_ONLY = (Stream.OPERATIONS,)


def _referral_handler(model: type[PayloadT], to_fact: Callable[[PayloadT], ReferralFact | None]) -> EventHandler:
    async def handle(unit: ReportingUnit, event: EventEnvelope) -> None:
        fact = to_fact(read_data(model, event.data))
        if fact is not None:  # an event reporting counts nothing from (an unanswered contact attempt)
            await service.record_referral_fact(unit, fact)

    return handle


def _notification_handler(model: type[PayloadT], to_outcome: Callable[[PayloadT], NotificationOutcome]) -> EventHandler:
    async def handle(unit: ReportingUnit, event: EventEnvelope) -> None:
        await service.record_notification(unit, to_outcome(read_data(model, event.data)))

    return handle


async def _on_urgent_unconfirmed(unit: ReportingUnit, event: EventEnvelope) -> None:
    await service.record_urgent_unconfirmed(unit, read_data(UrgentUnconfirmed, event.data))


async def _on_urgent_settled(unit: ReportingUnit, event: EventEnvelope) -> None:
    await service.record_urgent_settled(unit, read_data(UrgentSettled, event.data))


async def _on_measures(unit: ReportingUnit, event: EventEnvelope) -> None:
    await service.record_measures(unit, events.measures(event.id, read_data(MeasuresRecorded, event.data)))


async def _on_caseloads(unit: ReportingUnit, event: EventEnvelope) -> None:
    await service.record_caseloads(unit, read_data(RosterCaseloads, event.data))


async def _on_pipeline_health(unit: ReportingUnit, event: EventEnvelope) -> None:
    await service.record_pipeline_health(unit, read_data(PipelineHealth, event.data))


def event_handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
    return reporting_handlers()


def reporting_handlers() -> dict[str, EventHandler]:
    """Every event type reporting reads; the kit ignores any other type it meets on these topics.

    The live consumer and a rebuild use these same handlers, so a rebuilt projection is built by the same rules.
    """
    received = _referral_handler(ReferralReceivedV2, events.received)  # every version, read as the newest
    return {
        **{version.name: received for version in REFERRAL_RECEIVED_VERSIONS},
        REFERRAL_TRIAGED.name: _referral_handler(ReferralTriaged, events.triaged),
        REFERRAL_ASSIGNED.name: _referral_handler(ReferralAssigned, events.assigned),
        REFERRAL_WAITLISTED.name: _referral_handler(ReferralWaitlisted, events.waitlisted),
        REFERRAL_ASSIGNED_FROM_WAITLIST.name: _referral_handler(ReferralAssignedFromWaitlist, events.assigned),
        REFERRAL_LINKED.name: _referral_handler(ReferralLinked, events.linked),
        REFERRAL_HANDED_OVER.name: _referral_handler(ReferralHandedOver, events.handed_over),
        REFERRAL_REASSIGNED.name: _referral_handler(ReferralReassigned, events.reassigned),
        CONTACT_RECORDED.name: _referral_handler(ContactRecorded, events.contact),
        SESSION_RECORDED.name: _referral_handler(SessionRecorded, events.session),
        CASE_CLOSED.name: _referral_handler(CaseClosed, events.closed),
        REFERRAL_WITHDRAWN.name: _referral_handler(ReferralWithdrawn, events.withdrawn),
        MEASURES_RECORDED.name: _on_measures,
        NOTIFICATION_SENT.name: _notification_handler(NotificationSent, events.notification_sent),
        NOTIFICATION_FAILED.name: _notification_handler(NotificationFailed, events.notification_failed),
        URGENT_UNCONFIRMED.name: _on_urgent_unconfirmed,
        URGENT_SETTLED.name: _on_urgent_settled,
        ROSTER_CASELOADS.name: _on_caseloads,
        PIPELINE_HEALTH.name: _on_pipeline_health,
    }
