"""Builders for integration events used across tests: one per event type, each keyed by its referral id.

Every builder takes the referral id (a fresh one when omitted), `at` for the event's own time (now
when omitted) and keyword overrides for any payload field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from signpost_contracts import ContractModel, EventEnvelope, new_event
from signpost_contracts.events.cases import (
    CaseClosed,
    ContactRecorded,
    ExtensionGranted,
    ExtensionRefused,
    GoalsSet,
    HandoverRequested,
    MeasuresRecorded,
    Ons4,
    ReassignmentRequested,
    ReferralWithdrawn,
    SessionRecorded,
)
from signpost_contracts.events.contacts import PersonContact, PersonContactErased
from signpost_contracts.events.erasure import ReferralErased
from signpost_contracts.events.inbound import AnsweredMessage, InboundAccepted, InboundRefused
from signpost_contracts.events.notifications import (
    NotificationFailed,
    NotificationSent,
    UrgentSettled,
    UrgentUnconfirmed,
)
from signpost_contracts.events.operations import PipelineHealth
from signpost_contracts.events.referrals import (
    PersonSummary,
    ReferralReceived,
    ReferralReceivedV2,
    Referrer,
    ReferrerContact,
    ReferrerV2,
)
from signpost_contracts.events.triage import (
    CaseTerms,
    FiredRule,
    HandoverRefused,
    Outcome,
    ReassignmentRefused,
    Redirect,
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
    RosterCaseloads,
    ServiceStatus,
)
from signpost_contracts.registry import SERVICE_SUBJECT

# What triage would say for each outcome: the rule that fired and the summary for the referrer.
DECISIONS: dict[str, tuple[FiredRule, str]] = {
    "accepted": (
        FiredRule(rule_id="in-area", description="Lives in the Leeds service area"),
        "Lives in Leeds and is 18 or over.",
    ),
    "declined": (
        FiredRule(rule_id="outside-service-area", description="The person lives outside the Leeds service area"),
        "We only support people who live in the Leeds service area.",
    ),
    "redirected": (
        FiredRule(rule_id="crisis", description="Risk of self-harm: urgent crisis support"),
        "This person may be at risk of harm.",
    ),
}
CRISIS_TEAM = Redirect(service="Leeds mental health crisis team", contact="NHS 111 option 2", urgent=True)


def _event(model: type[ContractModel], fields: dict[str, Any], overrides: dict[str, Any]) -> EventEnvelope:
    payload = model(**{**fields, **overrides})
    referral_id = fields["referral_id"]
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


def _new_id(referral_id: str | None) -> str:
    return referral_id or str(uuid.uuid4())


def referral_received(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "received_at": at or datetime.now(UTC),
        "channel": "fhir-rest",
        "referrer": Referrer(
            kind="gp",
            ods_code="B82005",
            organisation_name="Leeds Road Surgery",
            contact=ReferrerContact(email="referrals@leedsroad.example.nhs.uk"),
        ),
        "person": PersonSummary(age_years=72, age_band="65-74", postcode_district="LS6"),
        "needs": ["loneliness"],
    }
    return _event(ReferralReceived, fields, overrides)


def referral_received_v2(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    """As intake announces a referral now: a partner organisation's, through the referral form, by default."""
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "received_at": at or datetime.now(UTC),
        "channel": "referral-form",
        "referrer": ReferrerV2(
            kind="community-organisation",
            partner_id="leeds-mind",
            organisation_name="Leeds Mind",
            contact=ReferrerContact(email="referrals@leedsmind.example.org"),
        ),
        "person": PersonSummary(age_years=72, age_band="65-74", postcode_district="LS6"),
        "needs": ["loneliness"],
    }
    return _event(ReferralReceivedV2, fields, overrides)


def self_referral_received(referral_id: str | None = None, *, at: datetime | None = None) -> EventEnvelope:
    """As intake announces a self-referral now: the person's address apart, on the contacts stream (person_contact)."""
    referrer = ReferrerV2(kind="self", contact_apart=True)
    return referral_received_v2(referral_id, at=at, channel="self-referral", referrer=referrer)


def referral_triaged(
    referral_id: str | None = None, outcome: Outcome = "accepted", *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    """A decision with the reason and summary triage gives for `outcome`; a redirect names the crisis team."""
    rule, summary = DECISIONS[outcome]
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "decided_at": at or datetime.now(UTC),
        "outcome": outcome,
        "complexity": "low",
        "reasons": [rule],
        "summary": summary,
        "redirect": CRISIS_TEAM if outcome == "redirected" else None,
        "policy_version": "test-1",
    }
    return _event(ReferralTriaged, fields, overrides)


def referral_assigned(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "assigned_at": at or datetime.now(UTC),
        "connector_id": "leeds-north-amira",
        "connector_kind": "paid",
        "area": "LS6",
    }
    return _event(ReferralAssigned, fields, overrides)


def referral_waitlisted(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "waitlisted_at": at or datetime.now(UTC),
        "area": "LS6",
        "reason": "every connector in LS6 is full",
    }
    return _event(ReferralWaitlisted, fields, overrides)


def _email(referral_id: str | None, notification_id: str | None, about_event_type: str) -> dict[str, Any]:
    return {
        "referral_id": _new_id(referral_id),
        "notification_id": notification_id or str(uuid.uuid4()),
        "about_event_type": about_event_type,
        "channel": "email",
    }


def notification_sent(
    referral_id: str | None = None, notification_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {
        **_email(referral_id, notification_id, "referral.assigned.v1"),
        "sent_at": at or datetime.now(UTC),
        "attempts": 1,
    }
    return _event(NotificationSent, fields, overrides)


def notification_failed(
    referral_id: str | None = None, notification_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {
        **_email(referral_id, notification_id, "referral.triaged.v1"),
        "failed_at": at or datetime.now(UTC),
        "attempts": 3,
        "last_error": "SMTP 451: mailbox busy",
    }
    return _event(NotificationFailed, fields, overrides)


def urgent_unconfirmed(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    """An urgent redirect escalated once and still not confirmed delivered."""
    moment = at or datetime.now(UTC)
    fields = {
        "referral_id": _new_id(referral_id),
        "outcome_event_id": str(uuid.uuid4()),
        "raised_at": moment,
        "escalations": 1,
        "last_escalation": "told again by email",
        "at": moment,
    }
    return _event(UrgentUnconfirmed, fields, overrides)


def urgent_settled(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {
        "referral_id": _new_id(referral_id),
        "outcome_event_id": str(uuid.uuid4()),
        "settled_at": at or datetime.now(UTC),
        "how": "acknowledged",
    }
    return _event(UrgentSettled, fields, overrides)


TERMS = CaseTerms(
    policy_version="test-1",
    session_allowance=6,
    extension_sessions=4,
    max_extensions=1,
    max_failed_contacts=3,
    stalled_after_days=28,
)


def referral_assigned_from_waitlist(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    moment = at or datetime.now(UTC)
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "assigned_at": moment,
        "connector_id": "leeds-north-amira",
        "connector_kind": "paid",
        "area": "LS6",
        "complexity": "low",
        "terms": TERMS,
        "waiting_since": moment - timedelta(days=9),
    }
    return _event(ReferralAssignedFromWaitlist, fields, overrides)


def referral_handed_over(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "handed_over_at": at or datetime.now(UTC),
        "from_connector_id": "leeds-north-amira",
        "connector_id": "leeds-volunteer-sam",
        "connector_kind": "volunteer",
    }
    return _event(ReferralHandedOver, fields, overrides)


def handover_refused(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {"referral_id": _new_id(referral_id), "refused_at": at or datetime.now(UTC), "reason": "no volunteer room"}
    return _event(HandoverRefused, fields, overrides)


def referral_reassigned(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "reassigned_at": at or datetime.now(UTC),
        "from_connector_id": "leeds-north-amira",
        "connector_id": "leeds-north-bilal",
        "connector_kind": "paid",
        "reason": "Amira is on leave",
    }
    return _event(ReferralReassigned, fields, overrides)


def reassignment_refused(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {"referral_id": _new_id(referral_id), "refused_at": at or datetime.now(UTC), "reason": "no room"}
    return _event(ReassignmentRefused, fields, overrides)


def referral_linked(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {
        "referral_id": _new_id(referral_id),
        "linked_at": at or datetime.now(UTC),
        "linked_to_referral_id": str(uuid.uuid4()),
        "reason": "The person is already being supported.",
    }
    return _event(ReferralLinked, fields, overrides)


def referral_withdrawn(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {"referral_id": _new_id(referral_id), "status": "revoked", "withdrawn_at": at or datetime.now(UTC)}
    return _event(ReferralWithdrawn, fields, overrides)


def referral_erased(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {"referral_id": _new_id(referral_id), "erased_at": at or datetime.now(UTC), "because": "request"}
    return _event(ReferralErased, fields, overrides)


def person_contact(
    referral_id: str | None = None, *, email: str | None = "ada@example.org", phone: str | None = "07700 900123"
) -> EventEnvelope:
    """A self-referrer's own reply address, on the compacted contacts stream."""
    return _event(PersonContact, {"referral_id": _new_id(referral_id), "email": email, "phone": phone}, {})


def person_contact_erased(referral_id: str | None = None) -> EventEnvelope:
    """The tombstone of a referral's key on the contacts stream (no data: the referral is its subject)."""
    referral_id = _new_id(referral_id)
    return new_event(PersonContactErased(), subject=referral_id, correlation_id=referral_id)


def contact_recorded(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "connector_id": "leeds-north-amira",
        "mode": "telephone",
        "outcome": "reached",
        "contacted_at": at or datetime.now(UTC),
        "first_reached": True,
        "failed_attempts": 0,
        "could_not_contact": False,
    }
    return _event(ContactRecorded, fields, overrides)


def goals_set(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {"referral_id": _new_id(referral_id), "goal_count": 2, "set_at": at or datetime.now(UTC)}
    return _event(GoalsSet, fields, overrides)


def session_recorded(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "mode": "walk",
        "held_at": at or datetime.now(UTC),
        "sessions_used": 1,
        "session_allowance": 6,
    }
    return _event(SessionRecorded, fields, overrides)


def extension_granted(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "sessions_added": 4,
        "session_allowance": 10,
        "extensions_granted": 1,
        "granted_at": at or datetime.now(UTC),
    }
    return _event(ExtensionGranted, fields, overrides)


def extension_refused(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {
        "referral_id": _new_id(referral_id),
        "reason": "one extension at most",
        "refused_at": at or datetime.now(UTC),
    }
    return _event(ExtensionRefused, fields, overrides)


def measures_recorded(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "stage": "baseline",
        "recorded_at": at or datetime.now(UTC),
        "ucla3": [3, 2, 3],
        "ucla3_total": 8,
        "ons_loneliness": "often-always",
        "ons4": Ons4(life_satisfaction=3, worthwhile=4, happiness=3, anxiety=7),
    }
    return _event(MeasuresRecorded, fields, overrides)


def case_closed(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": _new_id(referral_id),
        "reason": "connected-onward",
        "closed_at": at or datetime.now(UTC),
        "sessions_used": 5,
        "session_allowance": 6,
        "reached": True,
        "goals": ["Join a walking group", "Get back in touch with my brother"],
        "onward": ["Hyde Park walking group"],
    }
    return _event(CaseClosed, fields, overrides)


def handover_requested(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {
        "referral_id": _new_id(referral_id),
        "requested_by": "leeds-north-amira",
        "requested_at": at or datetime.now(UTC),
    }
    return _event(HandoverRequested, fields, overrides)


def reassignment_requested(
    referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    fields = {
        "referral_id": _new_id(referral_id),
        "connector_id": None,
        "reason": "Amira is on leave",
        "requested_by": "coordinator-1",
        "requested_at": at or datetime.now(UTC),
    }
    return _event(ReassignmentRequested, fields, overrides)


def service_status(*, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    """Triage's service.status.v1: about the service, not a referral (subject and key "service")."""
    fields: dict[str, Any] = {
        "as_of": at or datetime.now(UTC),
        "policy_version": "leeds-1",
        "area_name": "Leeds",
        "postcode_prefixes": ["LS"],
        "age_minimum": 18,
        "age_maximum": 95,
        "cohorts": ["people who have been bereaved"],
        "exclusions": ["People in LS29 are supported by the Otley outreach service."],
        "capacity": "waitlist",
        "places_free": 0,
        "waiting": 3,
        "typical_wait_days": 9.5,
    }
    return new_event(ServiceStatus(**{**fields, **overrides}), subject=SERVICE_SUBJECT, correlation_id="service-status")


def roster_caseloads(*, at: datetime | None = None, connectors: list[dict[str, Any]] | None = None) -> EventEnvelope:
    """Triage's roster.caseloads.v1: every connector's caseload against capacity (subject and key "service")."""
    listed = connectors or [
        {"connector_id": "leeds-north-amira", "kind": "paid", "capacity": 3, "open_cases": 3, "taking_new_work": True},
        {"connector_id": "leeds-vol-2", "kind": "volunteer", "capacity": 2, "open_cases": 1, "taking_new_work": False},
    ]
    payload = RosterCaseloads.model_validate({"as_of": at or datetime.now(UTC), "connectors": listed})
    return new_event(payload, subject=SERVICE_SUBJECT, correlation_id="roster-caseloads")


def pipeline_health(
    service: str = "triage", instance: str = "triage-7d9f-abcde", *, at: datetime | None = None, **overrides: Any
) -> EventEnvelope:
    """One instance's service.pipeline-health.v1: aggregates only (subject and key "<service>/<instance>")."""
    fields: dict[str, Any] = {
        "service": service,
        "instance": instance,
        "as_of": at or datetime.now(UTC),
        "every_seconds": 20.0,
        "outbox_waiting": 2,
        "outbox_parked": 1,
        "dead_letters_sent": 1,
        "dead_letters_parked": 0,
        "consumers": [{"group": "signpost.triage", "topic": "signpost.referrals", "partitions": 12, "lag": 5}],
    }
    payload = PipelineHealth.model_validate({**fields, **overrides})
    return new_event(payload, subject=f"{service}/{instance}", correlation_id="pipeline-health")


_ANSWERS = AnsweredMessage(event_id="msg-1", source="urn:example:integration-engine")
_REFUSAL = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "not a producer", "expression": ["ce_source"]}],
}


def inbound_accepted(referral_id: str | None = None, *, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {
        "answers": _ANSWERS,
        "accepted_at": at or datetime.now(UTC),
        "referral_id": _new_id(referral_id),
        "task_id": str(uuid.uuid4()),
        "duplicate": False,
    }
    payload = InboundAccepted(**{**fields, **overrides})
    return new_event(payload, subject=payload.answers.event_id, correlation_id=payload.answers.event_id)


def inbound_refused(*, at: datetime | None = None, **overrides: Any) -> EventEnvelope:
    fields = {"answers": _ANSWERS, "refused_at": at or datetime.now(UTC), "status": 403, "operation_outcome": _REFUSAL}
    payload = InboundRefused(**{**fields, **overrides})
    return new_event(payload, subject=payload.answers.event_id, correlation_id=payload.answers.event_id)
