"""A person who referred themselves hears about their own request, in words for them, not a professional's."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from notifications.adapters.templates import EmailTemplates
from notifications.domain.outcomes import Outcome, ReferrerContact, contact_of
from signpost_contracts import read_data
from signpost_contracts.events.referrals import ReferralReceivedV2
from support import events

pytestmark = pytest.mark.unit

PERSON = ReferrerContact(referral_id="ref-0001", email="ann@example.com", kind="self")
TEMPLATES = Path(str(resources.files("notifications") / "templates"))


def _outcome(kind: str, **fields: object) -> Outcome:
    return Outcome(
        event_id="evt-1", event_type="x", referral_id="ref-0001", kind=kind, occurred_at=datetime.now(UTC), **fields
    )


def test_a_self_referrers_contact_remembers_that_they_are_the_person():
    received = events.referral_received_v2(
        channel="self-referral",
        referrer={"kind": "self", "contact": {"email": "ann@example.com"}},
    )

    contact = contact_of(read_data(ReferralReceivedV2, received.data))

    assert (contact.kind, contact.email) == ("self", "ann@example.com")


def test_an_assignment_tells_the_person_a_connector_will_contact_them():
    email = EmailTemplates().render(_outcome("assigned", connector_kind="paid"), PERSON)

    assert email.subject == "Your request for support: a connector will be in touch"
    assert "a community connector will contact you soon" in email.text
    assert "the person" not in email.text.lower()
    assert "ref-0001" in email.text


def test_a_decline_to_a_person_says_where_else_to_look_and_keeps_the_reason():
    email = EmailTemplates().render(_outcome("declined", summary="We support people in Leeds only."), PERSON)

    assert "We support people in Leeds only." in email.text
    assert "fill in the form again" in " ".join(email.text.split())
    assert "referral" not in email.text.lower()


def test_every_outcome_a_referrer_hears_has_a_version_for_a_person():
    # The duty coordinator's escalation is for staff; only a person who referred themselves is acknowledged.
    for_referrers = {path.name for path in TEMPLATES.glob("*.txt.j2")} - {
        "urgent-escalation.txt.j2",
        "duty-base.txt.j2",
    }
    for_people = {path.name for path in (TEMPLATES / "self").glob("*.txt.j2")} - {"received.txt.j2"}

    assert for_referrers == for_people
    by_text = {path.name for path in (TEMPLATES / "sms" / "self").glob("*.txt.j2")}
    assert by_text == for_people - {"base.txt.j2"} | {"received.txt.j2"}, "a person with only a mobile hears it all"
