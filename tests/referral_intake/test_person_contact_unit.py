"""A self-referrer's own reply address leaves intake on the compacted contacts stream, never on referral.received.

The referrals stream is kept for the service's lifetime, so an address on it would outlive the person's erasure;
a professional referrer's address is not the person's and stays on the event (contracts/events/contacts.py).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from referral_intake.adapters.events import person_contact_erased, referral_received
from referral_intake.domain.referral import PersonSummary, ReferralAccepted, Referrer
from signpost_contracts import EVENT_TYPES
from signpost_contracts.registry import PERSON_CONTACT, PERSON_CONTACT_ERASED, REFERRAL_RECEIVED_V2

pytestmark = pytest.mark.unit

EMAIL, PHONE = "rosalind.quilliam@example.com", "07700 900461"


def _accepted(referrer: Referrer) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id="r-self-1",
        received_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        referrer=referrer,
        person=PersonSummary(
            age_years=70, age_band="65-74", postcode_district="LS6", preferred_language="en", interpreter_needed=False
        ),
        reference=None,
        channel="self-referral",
    )


def test_a_self_referrers_address_goes_on_the_contacts_stream_and_not_on_the_kept_referral_event():
    published = referral_received(_accepted(Referrer(ods_code=None, kind="self", email=EMAIL, phone=PHONE)), "c-1")

    assert [event.type for event in published] == [PERSON_CONTACT.name, REFERRAL_RECEIVED_V2.name]
    contact, received = published
    assert contact.data == {"referral_id": "r-self-1", "email": EMAIL, "phone": PHONE}
    assert contact.subject == received.subject == "r-self-1", "keyed by the referral, as its tombstone will be"
    assert received.data["referrer"]["contact"] == {"email": None, "phone": None, "fhir_endpoint": None}
    assert received.data["referrer"]["contact_apart"] is True
    for text in (EMAIL, PHONE):
        assert text not in received.value().decode(), f"{text} would be kept for ever on the referrals stream"


def test_an_outreach_referral_is_the_persons_own_so_its_address_goes_apart_too():
    outreach = dataclasses.replace(_accepted(Referrer(ods_code=None, kind="self", phone=PHONE)), channel="outreach")

    contact, received = referral_received(outreach, "c-1")

    assert (contact.data["email"], contact.data["phone"]) == (None, PHONE)
    assert PHONE not in received.value().decode()


def test_a_professional_referrers_address_stays_on_the_referral_event_and_nothing_goes_apart():
    gp = Referrer(ods_code="B86041", kind="gp", organisation_name="Leeds Road Surgery", email="lrs@nhs.net")

    [received] = referral_received(_accepted(gp), "c-1")

    assert received.data["referrer"]["contact"]["email"] == "lrs@nhs.net"
    assert received.data["referrer"]["contact_apart"] is False


def test_the_erasure_tombstone_is_keyed_by_the_referral_and_carries_nothing():
    tombstone = person_contact_erased("r-self-1", "c-2")

    assert EVENT_TYPES[tombstone.type] is PERSON_CONTACT_ERASED
    assert PERSON_CONTACT_ERASED.tombstone
    assert PERSON_CONTACT_ERASED.stream == PERSON_CONTACT.stream
    assert (tombstone.subject, tombstone.data) == ("r-self-1", {})
