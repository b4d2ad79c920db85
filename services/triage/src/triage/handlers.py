"""Thin event handlers: a received referral is triaged in the consumer's unit of work."""

from __future__ import annotations

from collections.abc import Mapping

from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.registry import REFERRAL_RECEIVED
from signpost_runtime.consumer import EventHandler
from triage import service
from triage.adapters.events import Cause
from triage.domain.referral import ReferralFacts
from triage.unit import TriageUnit


def facts_of(received: ReferralReceived) -> ReferralFacts:
    person = received.person
    return ReferralFacts.of(
        referral_id=received.referral_id,
        received_at=received.received_at,
        age_years=person.age_years,
        postcode_district=person.postcode_district,
        needs=received.needs,
        risk_flags=received.risk_flags,
        priority=received.priority,
        interpreter_needed=person.interpreter_needed,
        preferred_language=person.preferred_language,
        requester_ods=received.referrer.ods_code,
    )


def event_handlers(triage: service.TriageService) -> Mapping[str, EventHandler]:
    async def on_referral_received(unit: TriageUnit, event: EventEnvelope) -> None:
        received = read_data(ReferralReceived, event.data)
        await triage.triage(unit, facts_of(received), Cause(event_id=event.id, correlation_id=event.correlationid))

    return {REFERRAL_RECEIVED.name: on_referral_received}
