"""What the referrer reads about the decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from triage.domain.assignment import Assignment, ConnectorLoad, Waitlisting
from triage.domain.decision import decide
from triage.domain.referral import ReferralFacts
from triage.domain.summary import summarise

pytestmark = pytest.mark.unit


def facts(**overrides) -> ReferralFacts:
    values = {"referral_id": str(uuid.uuid4()), "received_at": datetime.now(UTC), "age_years": 40, **overrides}
    values.setdefault("postcode_district", "LS6")
    return ReferralFacts.of(**values)


def test_a_declined_referral_tells_the_referrer_why(policy):
    text = summarise(decide(policy, facts(postcode_district="M1")), None)
    assert text.startswith("We cannot accept this referral. Postcode district M1 is outside the Leeds service area")


def test_an_urgent_redirect_says_it_is_urgent_and_where_to_go(policy):
    text = summarise(decide(policy, facts(risk_flags=["self-harm-risk"])), None)
    assert text == (
        "Urgent: This person may be at risk; contact the crisis team now. Contact: Call NHS 111 and choose option 2."
    )


def test_an_accepted_referral_says_whether_a_connector_was_assigned_or_it_waits(policy):
    decision = decide(policy, facts())
    connector = ConnectorLoad(id="c", kind="paid", areas=("LS6",), capacity=1, caseload=0)
    assert "has been assigned" in summarise(decision, Assignment(connector, "why"))
    assert "waiting list" in summarise(decision, Waitlisting(None, "full"))
    assert "No connector in LS6 has room" in summarise(decision, Waitlisting(None, "full"))
