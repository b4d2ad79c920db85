"""Turning triage's outcomes into the integration events other services consume."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from signpost_contracts import ContractModel, EventEnvelope, new_event
from signpost_contracts.events.common import TEXT_LIMIT, clip
from signpost_contracts.events.triage import (
    CaseTerms,
    FiredRule,
    HandoverRefused,
    ReassignmentRefused,
    Redirect,
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
    ServiceStatus,
)
from signpost_contracts.registry import SERVICE_SUBJECT
from signpost_contracts.vocabulary import Complexity
from triage.domain.assignment import Assignment, ConnectorLoad, Placement
from triage.domain.decision import Decision
from triage.domain.service_status import ServiceStatusView
from triage.domain.terms import Terms
from triage.domain.waitlist import WaitingEntry


@dataclass(frozen=True)
class Cause:
    """What led here: its correlation id travels on, its event id (if an event) becomes the causation id."""

    event_id: str | None
    correlation_id: str


def _text(text: str) -> str:
    return clip(text, TEXT_LIMIT) or ""


def case_terms(terms: Terms) -> CaseTerms:
    return CaseTerms(**asdict(terms))


def _envelope(payload: ContractModel, referral_id: str, cause: Cause) -> EventEnvelope:
    return new_event(payload, subject=referral_id, correlation_id=cause.correlation_id, causation_id=cause.event_id)


def _triaged(referral_id: str, decision: Decision, summary: str, at: datetime) -> ReferralTriaged:
    redirect = decision.redirect
    return ReferralTriaged(
        referral_id=referral_id,
        decided_at=at,
        outcome=decision.outcome,
        complexity=decision.complexity,
        reasons=[FiredRule(rule_id=rule.rule_id, description=rule.description) for rule in decision.fired],
        summary=_text(summary),
        redirect=Redirect(service=redirect.service, contact=redirect.contact, urgent=redirect.urgent)
        if redirect
        else None,
        policy_version=decision.policy_version,
    )


def _placed(
    referral_id: str,
    area: str,
    decision: Decision,
    placement: Placement,
    terms: Terms,
    at: datetime,
    position: int | None,
) -> ContractModel:
    if isinstance(placement, Assignment):
        connector = placement.connector
        return ReferralAssigned(
            referral_id=referral_id,
            assigned_at=at,
            connector_id=connector.id,
            connector_kind=connector.kind,
            area=area,
            complexity=decision.complexity,
            terms=case_terms(terms),
        )
    return ReferralWaitlisted(
        referral_id=referral_id,
        waitlisted_at=at,
        area=area,
        required_kind=placement.required_kind,
        reason=_text(placement.reason),
        position=position,
    )


def outcome_events(
    referral_id: str,
    decision: Decision,
    placement: Placement | None,
    terms: Terms,
    summary: str,
    at: datetime,
    cause: Cause,
    position: int | None = None,
) -> list[EventEnvelope]:
    """`position`: a waitlisted referral's place in its area's waiting list."""
    payloads: list[ContractModel] = [_triaged(referral_id, decision, summary, at)]
    if placement is not None and decision.district is not None:
        payloads.append(_placed(referral_id, decision.district, decision, placement, terms, at, position))
    return [_envelope(payload, referral_id, cause) for payload in payloads]


def linked_events(
    referral_id: str, decision: Decision, summary: str, linked_to: str, reason: str, at: datetime, cause: Cause
) -> list[EventEnvelope]:
    linked = ReferralLinked(
        referral_id=referral_id, linked_at=at, linked_to_referral_id=linked_to, reason=_text(reason)
    )
    return [
        _envelope(_triaged(referral_id, decision, summary, at), referral_id, cause),
        _envelope(linked, referral_id, cause),
    ]


def assigned_from_waitlist(
    entry: WaitingEntry, connector: ConnectorLoad, complexity: Complexity, terms: Terms, at: datetime, cause: Cause
) -> EventEnvelope:
    payload = ReferralAssignedFromWaitlist(
        referral_id=entry.referral_id,
        assigned_at=at,
        connector_id=connector.id,
        connector_kind=connector.kind,
        area=entry.area,
        complexity=complexity,
        terms=case_terms(terms),
        waiting_since=entry.received_at,
    )
    # The waiting referral's own correlation id, so its journey reads as one; the freeing event is the cause.
    return _envelope(payload, entry.referral_id, Cause(cause.event_id, entry.correlation_id or cause.correlation_id))


def handed_over(referral_id: str, from_id: str, to: ConnectorLoad, at: datetime, cause: Cause) -> EventEnvelope:
    payload = ReferralHandedOver(
        referral_id=referral_id,
        handed_over_at=at,
        from_connector_id=from_id,
        connector_id=to.id,
        connector_kind=to.kind,
    )
    return _envelope(payload, referral_id, cause)


def reassigned(
    referral_id: str, from_id: str, to: ConnectorLoad, reason: str, at: datetime, cause: Cause
) -> EventEnvelope:
    payload = ReferralReassigned(
        referral_id=referral_id,
        reassigned_at=at,
        from_connector_id=from_id,
        connector_id=to.id,
        connector_kind=to.kind,
        reason=_text(reason),
    )
    return _envelope(payload, referral_id, cause)


def change_refused(kind: str, referral_id: str, reason: str, at: datetime, cause: Cause) -> EventEnvelope:
    model = HandoverRefused if kind == "handover" else ReassignmentRefused
    return _envelope(model(referral_id=referral_id, refused_at=at, reason=_text(reason)), referral_id, cause)


def service_status_event(view: ServiceStatusView, at: datetime, cause: Cause) -> EventEnvelope:
    status = ServiceStatus(
        as_of=at,
        policy_version=view.policy_version,
        area_name=view.area_name,
        postcode_prefixes=list(view.postcode_prefixes),
        age_minimum=view.age_minimum,
        age_maximum=view.age_maximum,
        cohorts=[_text(text) for text in view.cohorts],
        exclusions=[_text(text) for text in view.exclusions],
        capacity=view.capacity,
        places_free=view.places_free,
        waiting=view.waiting,
        typical_wait_days=view.typical_wait_days,
    )
    return _envelope(status, SERVICE_SUBJECT, cause)
