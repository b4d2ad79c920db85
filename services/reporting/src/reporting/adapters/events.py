"""Integration events -> reporting facts: the point where identifying detail is dropped.

Only the fields listed here cross into reporting. Names, contact details, the referrer's own
reference, exact ages, languages, risk flags and free-text reasons never do; nor, from a case, the
person's goals, onward connections, connector ids, the other referral a link points to, or the
UCLA-3 item answers (their total is enough).
"""

from __future__ import annotations

from reporting.domain.facts import (
    Assigned,
    Closed,
    ConnectorChanged,
    CouldNotContact,
    FirstContact,
    Linked,
    Measures,
    NotificationOutcome,
    Received,
    SessionHeld,
    Triaged,
    Waitlisted,
    Withdrawn,
)
from reporting.domain.minimise import age_band, need_categories, postcode_district
from reporting.domain.status import Decision
from signpost_contracts.events.cases import (
    CaseClosed,
    ContactRecorded,
    MeasuresRecorded,
    ReferralWithdrawn,
    SessionRecorded,
)
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.referrals import ReferralReceivedV2
from signpost_contracts.events.triage import (
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
)


def received(event: ReferralReceivedV2) -> Received:
    return Received(
        referral_id=event.referral_id,
        received_at=event.received_at,
        channel=event.channel,
        priority=event.priority,
        age_band=age_band(event.person.age_years, event.person.age_band),
        postcode_district=postcode_district(event.person.postcode_district),
        needs=need_categories(event.needs),
        referrer_kind=event.referrer.kind,
        referrer_ods_code=event.referrer.ods_code,
        imd_decile=event.person.imd_decile,
    )


def triaged(event: ReferralTriaged) -> Triaged:
    return Triaged(
        referral_id=event.referral_id,
        decided_at=event.decided_at,
        outcome=Decision(event.outcome),
        complexity=event.complexity,
        fired_rules=tuple(rule.rule_id for rule in event.reasons),
        redirect_urgent=event.redirect.urgent if event.redirect else None,
    )


def assigned(event: ReferralAssigned | ReferralAssignedFromWaitlist) -> Assigned:
    """Straight away or from the waitlist, it is the same fact: the referral has a connector."""
    return Assigned(
        referral_id=event.referral_id,
        assigned_at=event.assigned_at,
        connector_kind=event.connector_kind,
        connector_since=event.assigned_at,
        area=event.area,
        stalled_after_days=event.terms.stalled_after_days if event.terms else None,
    )


def handed_over(event: ReferralHandedOver) -> ConnectorChanged:
    return ConnectorChanged(
        referral_id=event.referral_id,
        connector_kind=event.connector_kind,
        connector_since=event.handed_over_at,
    )


def reassigned(event: ReferralReassigned) -> ConnectorChanged:
    # The reason is a coordinator's free text: it stays behind.
    return ConnectorChanged(
        referral_id=event.referral_id,
        connector_kind=event.connector_kind,
        connector_since=event.reassigned_at,
    )


def waitlisted(event: ReferralWaitlisted) -> Waitlisted:
    return Waitlisted(referral_id=event.referral_id, waitlisted_at=event.waitlisted_at, waitlist_area=event.area)


def contact(event: ContactRecorded) -> FirstContact | CouldNotContact | None:
    """An attempt matters to reporting only when it first reached the person or was the last one allowed."""
    if event.first_reached:
        return FirstContact(referral_id=event.referral_id, first_reached_at=event.contacted_at)
    if event.could_not_contact:
        return CouldNotContact(referral_id=event.referral_id, unreachable_at=event.contacted_at)
    return None


def session(event: SessionRecorded) -> SessionHeld:
    return SessionHeld(referral_id=event.referral_id, last_session_at=event.held_at)


def closed(event: CaseClosed) -> Closed:
    return Closed(
        referral_id=event.referral_id,
        closed_at=event.closed_at,
        closure=event.reason,
        sessions_used=event.sessions_used,
    )


def withdrawn(event: ReferralWithdrawn) -> Withdrawn:
    return Withdrawn(referral_id=event.referral_id, withdrawn_at=event.withdrawn_at)


def linked(event: ReferralLinked) -> Linked:
    return Linked(referral_id=event.referral_id, linked_at=event.linked_at)


def measures(event_id: str, event: MeasuresRecorded) -> Measures:
    ons4 = event.ons4
    return Measures(
        referral_id=event.referral_id,
        stage=event.stage,
        recorded_at=event.recorded_at,
        event_id=event_id,
        ucla3_total=event.ucla3_total,
        ons_loneliness=event.ons_loneliness,
        life_satisfaction=ons4.life_satisfaction if ons4 else None,
        worthwhile=ons4.worthwhile if ons4 else None,
        happiness=ons4.happiness if ons4 else None,
        anxiety=ons4.anxiety if ons4 else None,
    )


def notification_sent(event: NotificationSent) -> NotificationOutcome:
    return NotificationOutcome(
        notification_id=event.notification_id,
        referral_id=event.referral_id,
        channel=event.channel,
        about_event_type=event.about_event_type,
        at=event.sent_at,
        attempts=event.attempts,
        succeeded=True,
    )


def notification_failed(event: NotificationFailed) -> NotificationOutcome:
    # last_error is left behind on purpose: a provider's message can quote an address.
    return NotificationOutcome(
        notification_id=event.notification_id,
        referral_id=event.referral_id,
        channel=event.channel,
        about_event_type=event.about_event_type,
        at=event.failed_at,
        attempts=event.attempts,
        succeeded=False,
    )
