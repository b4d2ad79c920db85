"""Thin event handlers: each parses its event and runs one use case in the consumer's unit of work."""

from __future__ import annotations

from collections.abc import Mapping

from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.cases import CaseClosed, HandoverRequested, ReassignmentRequested, ReferralWithdrawn
from signpost_contracts.events.erasure import ReferralErased
from signpost_contracts.events.referrals import ReferralReceivedV2
from signpost_contracts.registry import (
    CASE_CLOSED,
    HANDOVER_REQUESTED,
    REASSIGNMENT_REQUESTED,
    REFERRAL_ERASED,
    REFERRAL_RECEIVED_VERSIONS,
    REFERRAL_WITHDRAWN,
)
from signpost_runtime.consumer import EventHandler
from triage.adapters.events import Cause
from triage.domain.referral import ReferralFacts
from triage.ports import ChangeRequest
from triage.service import TriageService, erase_referral
from triage.unit import TriageUnit


def facts_of(received: ReferralReceivedV2) -> ReferralFacts:
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
        requester_partner=getattr(received.referrer, "partner_id", None),
        person_key=received.person_key,
        replaces_referral_id=received.replaces_referral_id,
        referrer_kind=received.referrer.kind,
    )


def _cause(event: EventEnvelope) -> Cause:
    return Cause(event_id=event.id, correlation_id=event.correlationid)


def event_handlers(triage: TriageService) -> Mapping[str, EventHandler]:
    async def on_referral_received(unit: TriageUnit, event: EventEnvelope) -> None:
        received = read_data(ReferralReceivedV2, event.data)
        await triage.triage(unit, facts_of(received), _cause(event))

    async def on_case_closed(unit: TriageUnit, event: EventEnvelope) -> None:
        closed = read_data(CaseClosed, event.data)
        await triage.case_ended(unit, closed.referral_id, "closed", closed.reason, closed.closed_at, _cause(event))

    async def on_referral_withdrawn(unit: TriageUnit, event: EventEnvelope) -> None:
        withdrawn = read_data(ReferralWithdrawn, event.data)
        await triage.case_ended(
            unit, withdrawn.referral_id, "withdrawn", withdrawn.status, withdrawn.withdrawn_at, _cause(event)
        )

    async def on_handover_requested(unit: TriageUnit, event: EventEnvelope) -> None:
        asked = read_data(HandoverRequested, event.data)
        request = ChangeRequest(asked.referral_id, "handover", asked.requested_by, asked.requested_at)
        await triage.change_requested(unit, request, _cause(event))

    async def on_reassignment_requested(unit: TriageUnit, event: EventEnvelope) -> None:
        asked = read_data(ReassignmentRequested, event.data)
        request = ChangeRequest(
            asked.referral_id, "reassignment", asked.requested_by, asked.requested_at, asked.reason, asked.connector_id
        )
        await triage.change_requested(unit, request, _cause(event))

    async def on_referral_erased(unit: TriageUnit, event: EventEnvelope) -> None:
        await erase_referral(unit, read_data(ReferralErased, event.data).referral_id)

    return {
        **{version.name: on_referral_received for version in REFERRAL_RECEIVED_VERSIONS},
        CASE_CLOSED.name: on_case_closed,
        REFERRAL_WITHDRAWN.name: on_referral_withdrawn,
        HANDOVER_REQUESTED.name: on_handover_requested,
        REASSIGNMENT_REQUESTED.name: on_reassignment_requested,
        REFERRAL_ERASED.name: on_referral_erased,
    }
