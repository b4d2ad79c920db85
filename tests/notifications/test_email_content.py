"""What the referrer reads: plain language, the reasons, and nothing that identifies the person."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.adapters.smtp import SmtpSender
from notifications.adapters.templates import EmailTemplates
from notifications.config import NotificationsSettings
from notifications.domain.deliveries import idempotency_key, message_id
from notifications.domain.messages import OutgoingMessage
from notifications.domain.outcomes import Outcome, ReferrerContact, contact_of
from signpost_contracts import read_data
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived, Referrer
from signpost_contracts.events.referrals import ReferrerContact as EventContact

pytestmark = pytest.mark.unit

CONTACT = ReferrerContact(
    referral_id="ref-0001", email="gp@example.nhs.uk", organisation_name="Leeds Road Surgery", reference="GP-REF-42"
)


def _outcome(kind: str, **fields: Any) -> Outcome:
    return Outcome(
        event_id="evt-1", event_type="x", referral_id="ref-0001", kind=kind, occurred_at=datetime.now(UTC), **fields
    )


OUTCOMES = {
    "assigned": _outcome("assigned", connector_kind="paid", area="LS6"),
    "waitlisted": _outcome("waitlisted", area="LS6", waitlist_reason="Every connector in LS6 is at capacity"),
    "declined": _outcome("declined", summary="We support adults only.", reasons=("Aged under 18", "Outside Leeds")),
    "redirected": _outcome(
        "redirected", summary="Risk of harm.", reasons=("Self-harm risk",), redirect_service="Crisis Team", urgent=True
    ),
}


def test_a_declined_email_gives_every_reason_and_what_the_referrer_can_do():
    email = EmailTemplates().render(OUTCOMES["declined"], CONTACT)
    assert email.subject == "Referral GP-REF-42: not accepted"
    for expected in ("We support adults only.", "- Aged under 18", "- Outside Leeds", "What you can do"):
        assert expected in email.text


def test_an_urgent_redirect_is_marked_urgent_and_says_where_to_go():
    email = EmailTemplates().render(OUTCOMES["redirected"], CONTACT)
    assert email.subject.startswith("URGENT - ")
    assert "Crisis Team" in email.subject
    assert "URGENT: please act on this today." in email.text
    assert "Where to go instead: Crisis Team" in email.text


def test_a_routine_redirect_is_not_marked_urgent():
    routine = OUTCOMES["redirected"].model_copy(update={"urgent": False})
    email = EmailTemplates().render(routine, CONTACT)
    assert "URGENT" not in email.subject + email.text


def test_a_redirect_that_names_no_service_still_reads_sensibly():
    unnamed = OUTCOMES["redirected"].model_copy(update={"redirect_service": None, "urgent": False})
    email = EmailTemplates().render(unnamed, CONTACT)
    assert email.subject == "Referral GP-REF-42: please refer to another service instead"
    assert "did not name the service" in email.text
    assert "None" not in email.text


def test_an_assignment_says_which_kind_of_connector():
    paid = EmailTemplates().render(OUTCOMES["assigned"], CONTACT)
    volunteer = EmailTemplates().render(
        OUTCOMES["assigned"].model_copy(update={"connector_kind": "volunteer"}), CONTACT
    )
    assert "paid staff" in paid.text
    assert "trained volunteers" in volunteer.text


def test_a_waitlisting_says_why_the_person_waits():
    email = EmailTemplates().render(OUTCOMES["waitlisted"], CONTACT)
    assert "accepted, on our waiting list" in email.subject
    assert "Why they are waiting: Every connector in LS6 is at capacity" in email.text
    assert "place in the queue" not in email.text, "said only when triage gave it"
    placed = EmailTemplates().render(OUTCOMES["waitlisted"].model_copy(update={"waitlist_position": 3}), CONTACT)
    assert "Their place in the queue: 3" in placed.text


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
def test_every_email_names_the_referral_by_both_references_and_never_the_person(kind: str, make):
    person = PersonSummary(age_years=97, age_band="85+", postcode_district="ZZ9", preferred_language="pa")
    received = read_data(ReferralReceived, make.received("ref-0001", reference="GP-REF-42", person=person).data)
    email = EmailTemplates().render(OUTCOMES[kind], contact_of(received))
    assert "GP-REF-42" in email.text
    assert "ref-0001" in email.text
    assert not re.search(r"\b\d{3} ?\d{3} ?\d{4}\b", email.text), "nothing shaped like an NHS number"
    for personal in ("97", "85+", "ZZ9"):
        assert personal not in email.subject + email.text


def test_a_line_break_in_the_reference_cannot_add_a_mail_header():
    sneaky = CONTACT.model_copy(update={"reference": "GP-1\r\nBcc: someone@example.org"})
    email = EmailTemplates().render(OUTCOMES["assigned"], sneaky)
    assert "\n" not in email.subject
    assert "\r" not in email.subject
    assert "Bcc: someone@" not in email.text
    message = SmtpSender(NotificationsSettings()).compose(
        OutgoingMessage(
            "email", "gp@example.nhs.uk", email.subject, email.text, "<m@signpost.local>", "k", "ref-0001", "c"
        )
    )
    assert message["Bcc"] is None


def _contact_from_referral(make, organisation_name: str, reference: str) -> ReferrerContact:
    referrer = Referrer(
        kind="gp",
        ods_code="B82005",
        organisation_name=organisation_name,
        contact=EventContact(email="gp@example.nhs.uk"),
    )
    return contact_of(read_data(ReferralReceived, make.received("ref-0001", reference, referrer=referrer).data))


def test_a_referrer_cannot_make_signpost_send_a_letter_of_its_own(make):
    # As long as referral.received.v1 allows (names 200, identifier values 256), cut to 80 and 64.
    contact = _contact_from_referral(make, "医" * 200, "A" * 256)
    assert len(contact.organisation_name or "") == 80
    assert len(contact.reference or "") == 64
    # A contact stored before the limits (330,000 CJK characters) is cut when the email is written.
    stored_earlier = CONTACT.model_copy(update={"organisation_name": "医" * 330_000, "reference": "A" * 5000})
    for email in (EmailTemplates().render(OUTCOMES["declined"], c) for c in (contact, stored_earlier)):
        assert len(email.subject) < 120
        assert len(email.text) < 3000
        assert "医" * 80 not in email.text


def test_a_phishing_link_in_the_organisation_name_reaches_the_email_defanged(make):
    contact = _contact_from_referral(
        make, "Surgery: renew your NHS login at https://nhs-login.example.com/renew", "GP-1\u202e1-PG"
    )
    email = EmailTemplates().render(OUTCOMES["assigned"], contact)
    assert "https://" not in email.text
    assert "nhs-login.example.com" not in email.text
    assert "https[:]//nhs-login[.]example[.]com/renew" in email.text
    assert "\u202e" not in email.subject + email.text
    assert email.subject.startswith("Referral GP-11-PG: ")


def test_the_sent_message_carries_its_idempotency_key_and_a_message_id_derived_from_it():
    key = idempotency_key("evt-1")
    outgoing = OutgoingMessage(
        "email", "gp@example.nhs.uk", "Subject", "Body\n", message_id(key, "signpost.local"), key, "ref-1", "c"
    )
    message = SmtpSender(NotificationsSettings()).compose(outgoing)
    assert message["X-Signpost-Idempotency-Key"] == "email:evt-1"
    assert message["Message-ID"] == message_id("email:evt-1", "signpost.local")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "Signpost <notifications@signpost.local>"
