"""Which events the referrer hears about, in Signpost's own terms.

An accepted referral is reported once, when it is assigned or waitlisted: the `accepted` triage
decision itself is not news to the referrer yet. Declined and redirected decisions are final and
reported at once. What happens later in the referral's life (a waiting person assigned, first
contact, closure, a link to an open case, withdrawal) is read in `case_outcomes`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from notifications.domain.free_text import ORGANISATION_NAME_LIMIT, REFERENCE_LIMIT, display_text
from signpost_contracts.events.contacts import PersonContact
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted

OutcomeKind = Literal[
    "received",  # a self-referral's acknowledgement: the person hears that their request arrived
    "assigned",
    "waitlisted",
    "declined",
    "redirected",
    "assigned-from-waitlist",
    "first-contact",
    "closed",
    "linked",
    "withdrawn",
]
WITHDRAWN: OutcomeKind = "withdrawn"


class StageScores(BaseModel):
    """A case's outcome measures at one stage, any of them unanswered (None)."""

    model_config = ConfigDict(frozen=True)

    ucla3_total: int | None = None  # 3-9, higher is lonelier
    ons_loneliness: str | None = None
    life_satisfaction: int | None = None  # ONS4, 0-10 each
    worthwhile: int | None = None
    happiness: int | None = None
    anxiety: int | None = None


class Outcome(BaseModel):
    """What happened to a referral that the referrer must be told."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    referral_id: str
    kind: OutcomeKind
    occurred_at: datetime
    summary: str | None = None
    reasons: tuple[str, ...] = ()
    connector_kind: str | None = None
    area: str | None = None
    waitlist_reason: str | None = None
    waitlist_position: int | None = None  # its place in its area's waiting list when it joined (1: next)
    redirect_service: str | None = None
    redirect_contact: str | None = None
    urgent: bool = False
    # Case closure (the message back to GP); goals and onward are connectors' free text, made safe
    # and bounded by case_outcomes before they are stored.
    closure_reason: str | None = None
    reached: bool | None = None
    sessions_used: int | None = None
    goals: tuple[str, ...] = ()
    goals_not_shown: int = 0
    onward: tuple[str, ...] = ()
    onward_not_shown: int = 0
    withdrawal_status: str | None = None
    # Only when the service allows scores in the closure message (CLOSURE_MESSAGE_INCLUDES_SCORES).
    baseline_scores: StageScores | None = None
    closing_scores: StageScores | None = None


class BarsConversation(BaseModel):
    """A referral sent as a BaRS message: where its servicerequest-response goes, and what it answers."""

    model_config = ConfigDict(frozen=True)

    message_id: str  # the request's MessageHeader.id, named by the response's MessageHeader.response
    source_endpoint: str  # MessageHeader.source.endpoint: the target of the response
    sender_ods: str | None = None
    correlation_id: str  # the conversation's X-Correlation-ID, echoed on the response


class ReferrerContact(BaseModel):
    """How to reach the referrer, and how they know the referral.

    Nothing about the person, except when the person is the referrer (kind "self"): then email and
    phone are the addresses they gave, with their consent to be contacted, on the self-referral form.
    """

    model_config = ConfigDict(frozen=True)

    referral_id: str
    email: str | None = None
    phone: str | None = None
    organisation_name: str | None = None
    ods_code: str | None = None
    partner_id: str | None = None
    reference: str | None = None
    kind: str | None = None  # referrer.kind: "self" is the person themselves
    bars: BarsConversation | None = None
    # The person's own address travels apart from referral.received, on the contacts stream (PersonAddress):
    # until it arrives nobody can be told, and erasure's tombstone takes it away again.
    address_apart: bool = False

    @property
    def bars_endpoint(self) -> str | None:
        return self.bars.source_endpoint if self.bars else None


class PersonAddress(BaseModel):
    """A self-referrer's own reply address, from referral.person-contact.v1 (the compacted contacts stream)."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    email: str | None = None
    phone: str | None = None


def person_address_of(contact: PersonContact) -> PersonAddress:
    return PersonAddress(
        referral_id=contact.referral_id,
        email=(contact.email or "").strip() or None,
        phone=(contact.phone or "").strip() or None,
    )


class AwaitingOutcome(BaseModel):
    """An outcome stored while its referral's details (referral.received.v1) have not arrived."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    referral_id: str
    correlation_id: str
    recorded_at: datetime
    waiting_seconds: float


def contact_of(received: ReferralReceived) -> ReferrerContact:
    """The referrer's contact, with the free text they chose bounded and made safe for an email."""
    reference = received.referrer_reference.value if received.referrer_reference else None
    # A v1 event (stored before v2) has neither a partner id nor a BaRS origin.
    origin = getattr(received, "bars", None)
    return ReferrerContact(
        referral_id=received.referral_id,
        email=(received.referrer.contact.email or "").strip() or None,
        phone=(received.referrer.contact.phone or "").strip() or None,
        organisation_name=display_text(received.referrer.organisation_name, ORGANISATION_NAME_LIMIT),
        ods_code=received.referrer.ods_code,
        partner_id=getattr(received.referrer, "partner_id", None),
        reference=display_text(reference, REFERENCE_LIMIT),
        kind=received.referrer.kind,
        # A v1 event, or one published before the contacts stream, has the address on it.
        address_apart=getattr(received.referrer, "contact_apart", False),
        bars=BarsConversation(
            message_id=origin.message_id,
            source_endpoint=str(origin.source_endpoint),
            sender_ods=origin.sender_ods,
            correlation_id=origin.correlation_id,
        )
        if origin
        else None,
    )


def outcome_of_receipt(event_id: str, event_type: str, received: ReferralReceived) -> Outcome | None:
    """A person who referred themselves is told their request arrived; a professional hears at triage."""
    if received.referrer.kind != "self":
        return None
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=received.referral_id,
        kind="received",
        occurred_at=received.received_at,
    )


def outcome_of_triage(event_id: str, event_type: str, triaged: ReferralTriaged) -> Outcome | None:
    """A decline or redirect is reported now; an acceptance waits for its assignment or waitlisting."""
    if triaged.outcome == "accepted":
        return None
    redirect = triaged.redirect if triaged.outcome == "redirected" else None
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=triaged.referral_id,
        kind="redirected" if triaged.outcome == "redirected" else "declined",
        occurred_at=triaged.decided_at,
        summary=triaged.summary,
        reasons=tuple(rule.description for rule in triaged.reasons),
        redirect_service=redirect.service if redirect else None,
        redirect_contact=redirect.contact if redirect else None,
        urgent=bool(redirect and redirect.urgent),
    )


def outcome_of_assignment(event_id: str, event_type: str, assigned: ReferralAssigned) -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=assigned.referral_id,
        kind="assigned",
        occurred_at=assigned.assigned_at,
        connector_kind=assigned.connector_kind,
        area=assigned.area,
    )


def outcome_of_waitlisting(event_id: str, event_type: str, waitlisted: ReferralWaitlisted) -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=waitlisted.referral_id,
        kind="waitlisted",
        occurred_at=waitlisted.waitlisted_at,
        area=waitlisted.area,
        connector_kind=waitlisted.required_kind,
        waitlist_reason=waitlisted.reason,
        waitlist_position=waitlisted.position,
    )
