"""Integration events: the outbox writer's view of domain events, and the Task's view of triage events."""

from __future__ import annotations

from datetime import UTC, datetime

from referral_intake.domain.referral import ReferralAccepted
from referral_intake.domain.task_status import Assignment, Triage, Waitlisting
from signpost_contracts import EventEnvelope, new_event, read_data
from signpost_contracts.events.common import EMAIL_LIMIT, NAME_LIMIT, PHONE_LIMIT, Identifier, clip
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived, Referrer, ReferrerContact, Sender
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted

CHANNEL = "fhir-rest"


def _fits(value: str | None, limit: int) -> str | None:
    # An address cut short would reach someone else or no one: one too long to be real is left out.
    return value if value is not None and len(value) <= limit else None


def referral_received(event: ReferralAccepted, correlation_id: str) -> EventEnvelope:
    referrer = event.referrer
    payload = ReferralReceived(
        referral_id=event.referral_id,
        received_at=event.received_at,
        channel=CHANNEL,
        referrer_reference=(
            Identifier(system=event.reference.system or None, value=event.reference.value) if event.reference else None
        ),
        referrer=Referrer(
            kind=referrer.kind,
            ods_code=referrer.ods_code,
            organisation_name=clip(referrer.organisation_name, NAME_LIMIT),
            contact=ReferrerContact(email=_fits(referrer.email, EMAIL_LIMIT), phone=_fits(referrer.phone, PHONE_LIMIT)),
        ),
        person=PersonSummary(
            age_years=event.person.age_years,
            age_band=event.person.age_band,
            postcode_district=event.person.postcode_district,
            preferred_language=event.person.preferred_language,
            interpreter_needed=event.person.interpreter_needed,
        ),
        needs=list(event.needs),
        risk_flags=list(event.risk_flags),
        priority=event.priority,
        sender=Sender(system=clip(event.sender.system, NAME_LIMIT) or "", ods_code=event.sender.ods_code)
        if event.sender
        else None,
    )
    return new_event(payload, subject=event.referral_id, correlation_id=correlation_id)


def triage_fact(event: EventEnvelope) -> tuple[str, Triage]:
    data = read_data(ReferralTriaged, event.data)
    redirect = data.redirect
    return data.referral_id, Triage(
        outcome=data.outcome,
        summary=data.summary,
        decided_at=_aware(data.decided_at),
        event_id=event.id,
        reasons=tuple(reason.description for reason in data.reasons),
        redirect_service=redirect.service if redirect else None,
        redirect_contact=redirect.contact if redirect else None,
        redirect_urgent=redirect.urgent if redirect else False,
    )


def assignment_fact(event: EventEnvelope) -> tuple[str, Assignment]:
    data = read_data(ReferralAssigned, event.data)
    return data.referral_id, Assignment(data.connector_kind, data.area, _aware(data.assigned_at), event.id)


def waitlist_fact(event: EventEnvelope) -> tuple[str, Waitlisting]:
    data = read_data(ReferralWaitlisted, event.data)
    return data.referral_id, Waitlisting(data.area, data.reason, _aware(data.waitlisted_at), event.id)


def _aware(moment: datetime) -> datetime:
    # Facts are compared by time; a producer that sent a naive time meant UTC (contracts use UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
