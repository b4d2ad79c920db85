"""Integration events about the referral itself: the outbox writer's view of its domain events.

Case events are built in adapters/case_events.py; triage's events are read in adapters/triage_events.py.
"""

from __future__ import annotations

from referral_intake.domain.case_events import ReferralWithdrawn as Withdrawn
from referral_intake.domain.referral import ReferralAccepted
from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.cases import ReferralWithdrawn
from signpost_contracts.events.common import CODE_LIMIT, EMAIL_LIMIT, NAME_LIMIT, PHONE_LIMIT, Identifier, clip
from signpost_contracts.events.contacts import PersonContact, PersonContactErased
from signpost_contracts.events.referrals import (
    BarsOrigin,
    PersonSummary,
    ReferralReceivedV2,
    ReferrerContact,
    ReferrerV2,
    Sender,
)


def _fits(value: str | None, limit: int) -> str | None:
    # An address cut short would reach someone else or no one: one too long to be real is left out.
    return value if value is not None and len(value) <= limit else None


def referral_received(event: ReferralAccepted, correlation_id: str) -> list[EventEnvelope]:
    """referral.received, and for a person who referred themselves their reply address apart from it.

    The referrals stream is kept for the service's lifetime and no record on it can be erased, so the person's
    own address goes on the compacted contacts stream (events/contacts.py), where erasure's tombstone removes it.
    A professional referrer's address (a practice, a team) is not the person's and stays on the event.
    """
    received = _received(event, person_is_referrer=event.referrer.kind == "self")
    envelope = new_event(received, subject=event.referral_id, correlation_id=correlation_id)
    if not received.referrer.contact_apart:
        return [envelope]
    referrer = event.referrer
    contact = PersonContact(
        referral_id=event.referral_id,
        email=_fits(referrer.email, EMAIL_LIMIT),
        phone=_fits(referrer.phone, PHONE_LIMIT),
    )
    # The contact first: a consumer that reads both topics may still see them in either order.
    return [new_event(contact, subject=event.referral_id, correlation_id=correlation_id), envelope]


def person_contact_erased(referral_id: str, correlation_id: str) -> EventEnvelope:
    """The tombstone of the referral's key on the contacts stream: compaction then forgets the person's address.

    Published for every erased referral, whether or not it had a contact there: a key that never had one is
    forgotten at no cost, and intake need not remember which referrals did.
    """
    return new_event(PersonContactErased(), subject=referral_id, correlation_id=correlation_id)


def _received(event: ReferralAccepted, *, person_is_referrer: bool) -> ReferralReceivedV2:
    referrer = event.referrer
    contact = (
        ReferrerContact()
        if person_is_referrer
        else ReferrerContact(email=_fits(referrer.email, EMAIL_LIMIT), phone=_fits(referrer.phone, PHONE_LIMIT))
    )
    return ReferralReceivedV2(
        referral_id=event.referral_id,
        received_at=event.received_at,
        channel=event.channel,
        referrer_reference=(
            Identifier(system=event.reference.system or None, value=event.reference.value) if event.reference else None
        ),
        referrer=ReferrerV2(
            kind=referrer.kind,
            ods_code=referrer.ods_code,
            partner_id=referrer.partner_id,
            organisation_name=clip(referrer.organisation_name, NAME_LIMIT),
            contact=contact,
            contact_apart=person_is_referrer,
        ),
        person=PersonSummary(
            age_years=event.person.age_years,
            age_band=event.person.age_band,
            postcode_district=event.person.postcode_district,
            imd_decile=event.person.imd_decile,
            # A tag too long to be real is left out, like an address: one cut short would be another language.
            preferred_language=_fits(event.person.preferred_language, CODE_LIMIT),
            interpreter_needed=event.person.interpreter_needed,
        ),
        needs=list(event.needs),
        risk_flags=list(event.risk_flags),
        priority=event.priority,
        sender=Sender(system=clip(event.sender.system, NAME_LIMIT) or "", ods_code=event.sender.ods_code)
        if event.sender
        else None,
        person_key=event.person_key,
        replaces_referral_id=event.replaces_referral_id,
        bars=_bars(event),
    )


def _bars(event: ReferralAccepted) -> BarsOrigin | None:
    origin = event.bars
    if origin is None:
        return None
    return BarsOrigin(
        message_id=origin.message_id,
        source_endpoint=origin.source_endpoint,
        sender_ods=origin.sender_ods,
        correlation_id=origin.correlation_id,
    )


def referral_withdrawn(event: Withdrawn, correlation_id: str) -> EventEnvelope:
    payload = ReferralWithdrawn(referral_id=event.referral_id, status=event.status, withdrawn_at=event.at)
    return new_event(payload, subject=event.referral_id, correlation_id=correlation_id)
