"""Builders for integration events used across tests: one per event type, each keyed by its referral id.

Every builder takes the referral id (a fresh one when omitted), `at` for the event's own time (now
when omitted) and keyword overrides for any payload field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from signpost_contracts import ContractModel, EventEnvelope, new_event
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived, Referrer, ReferrerContact
from signpost_contracts.events.triage import (
    FiredRule,
    Outcome,
    Redirect,
    ReferralAssigned,
    ReferralTriaged,
    ReferralWaitlisted,
)

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
