"""Which events produce a notification, and what notifications keeps from them."""

from __future__ import annotations

import pytest

from notifications.domain.outcomes import (
    contact_of,
    outcome_of_assignment,
    outcome_of_triage,
    outcome_of_waitlisting,
)
from signpost_contracts import read_data
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted

pytestmark = pytest.mark.unit


def _triage_outcome(make, outcome: str, **overrides):
    event = make.triaged("r-1", outcome=outcome, **overrides)
    return outcome_of_triage(event.id, event.type, read_data(ReferralTriaged, event.data))


def test_an_accepted_decision_waits_for_its_assignment_or_waitlisting(make):
    assert _triage_outcome(make, "accepted") is None


def test_a_declined_decision_is_reported_with_its_reasons(make):
    outcome = _triage_outcome(make, "declined")
    assert outcome is not None
    assert outcome.kind == "declined"
    assert outcome.reasons == ("The person lives outside the Leeds service area",)
    assert outcome.summary == "We only support people who live in Leeds."
    assert outcome.redirect_service is None


def test_a_redirect_says_where_to_go_and_whether_it_is_urgent(make):
    outcome = _triage_outcome(make, "redirected")
    assert outcome is not None
    assert (outcome.kind, outcome.urgent) == ("redirected", True)
    assert outcome.redirect_service == "Leeds Mental Health Crisis Team"
    assert outcome.redirect_contact == "0800 183 1485"


def test_an_assignment_is_reported_with_the_kind_of_connector(make):
    event = make.assigned("r-1", kind="volunteer")
    outcome = outcome_of_assignment(event.id, event.type, read_data(ReferralAssigned, event.data))
    assert (outcome.kind, outcome.connector_kind, outcome.event_id) == ("assigned", "volunteer", event.id)


def test_a_waitlisting_is_reported_with_why(make):
    event = make.waitlisted("r-1")
    outcome = outcome_of_waitlisting(event.id, event.type, read_data(ReferralWaitlisted, event.data))
    assert (outcome.kind, outcome.waitlist_reason) == ("waitlisted", "No connector in LS6 has room")


def test_only_the_referrers_contact_and_reference_are_kept_from_a_referral(make):
    person = PersonSummary(age_years=97, age_band="85+", postcode_district="ZZ9", preferred_language="pa")
    received = read_data(ReferralReceived, make.received("r-1", reference="GP-77", person=person).data)
    contact = contact_of(received)
    assert contact.email == "referrals@leedsroad.example.nhs.uk"
    assert (contact.reference, contact.ods_code) == ("GP-77", "B82005")
    kept = contact.model_dump_json()
    for personal in ("97", "85+", "ZZ9", '"pa"'):
        assert personal not in kept
