"""Triage's events as the facts intake keeps: the Task's (decision, placement, link) and the case's (who
holds it, the terms it runs by, refused changes). Read tolerantly (fields added later are ignored)."""

from __future__ import annotations

from datetime import UTC, datetime

from referral_intake.domain.case import Allocation, Holding, Refusal, Terms
from referral_intake.domain.task_status import Assignment, Linking, Triage, Waitlisting
from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.triage import (
    CaseTerms,
    HandoverRefused,
    ReassignmentRefused,
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
)


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


def waitlist_fact(event: EventEnvelope) -> tuple[str, Waitlisting]:
    data = read_data(ReferralWaitlisted, event.data)
    return data.referral_id, Waitlisting(data.area, data.reason, _aware(data.waitlisted_at), event.id)


def link_fact(event: EventEnvelope) -> tuple[str, Linking]:
    data = read_data(ReferralLinked, event.data)
    return data.referral_id, Linking(data.linked_to_referral_id, data.reason, _aware(data.linked_at), event.id)


def assignment_facts(event: EventEnvelope) -> tuple[str, Assignment, Holding, Allocation]:
    """referral.assigned.v1 or referral.assigned-from-waitlist.v1: the Task's placement and the case's holder."""
    data: ReferralAssigned | ReferralAssignedFromWaitlist
    if event.type == "referral.assigned-from-waitlist.v1":
        data, how = read_data(ReferralAssignedFromWaitlist, event.data), "assigned-from-waitlist"
    else:
        data, how = read_data(ReferralAssigned, event.data), "assigned"
    at = _aware(data.assigned_at)
    return (
        data.referral_id,
        Assignment(data.connector_kind, data.area, at, event.id),
        Holding(data.connector_id, data.connector_kind, how, at, event.id),  # type: ignore[arg-type]
        Allocation(data.complexity, _terms(data.terms), at, event.id),
    )


def holding_fact(event: EventEnvelope) -> tuple[str, Holding]:
    """referral.handed-over.v1 or referral.reassigned.v1: the case moved to another connector."""
    if event.type == "referral.handed-over.v1":
        handed = read_data(ReferralHandedOver, event.data)
        return handed.referral_id, Holding(
            handed.connector_id, handed.connector_kind, "handed-over", _aware(handed.handed_over_at), event.id
        )
    moved = read_data(ReferralReassigned, event.data)
    return moved.referral_id, Holding(
        moved.connector_id, moved.connector_kind, "reassigned", _aware(moved.reassigned_at), event.id
    )


def refusal_fact(event: EventEnvelope) -> tuple[str, Refusal]:
    if event.type == "referral.handover-refused.v1":
        data: HandoverRefused | ReassignmentRefused = read_data(HandoverRefused, event.data)
        return data.referral_id, Refusal("handover", data.reason, _aware(data.refused_at), event.id)
    data = read_data(ReassignmentRefused, event.data)
    return data.referral_id, Refusal("reassignment", data.reason, _aware(data.refused_at), event.id)


def _terms(terms: CaseTerms | None) -> Terms | None:
    if terms is None:
        return None
    return Terms(
        terms.policy_version,
        terms.session_allowance,
        terms.extension_sessions,
        terms.max_extensions,
        terms.max_failed_contacts,
        terms.stalled_after_days,
    )


def _aware(moment: datetime) -> datetime:
    # Facts are compared by time; a producer that sent a naive time meant UTC (contracts use UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
