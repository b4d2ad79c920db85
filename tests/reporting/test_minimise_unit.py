"""What reporting keeps of a referral: bands and districts, never a person's identifying detail."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from reporting.adapters.events import notification_failed, received
from reporting.domain.minimise import age_band, need_categories
from signpost_contracts.events.common import Identifier
from signpost_contracts.events.notifications import NotificationFailed
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived, Referrer, ReferrerContact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("years", "band"),
    [
        (0, "0-17"),
        (17, "0-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (64, "55-64"),
        (74, "65-74"),
        (84, "75-84"),
        (85, "85+"),
        (130, "85+"),
        (None, None),
    ],
)
def test_an_age_without_a_band_is_reduced_to_a_band(years, band):
    assert age_band(years, None) == band


def test_the_producers_band_is_kept_when_it_sent_one():
    assert age_band(72, "70-79") == "70-79"


def test_need_categories_are_normalised_and_deduplicated():
    assert need_categories(["Loneliness", "housing ", "loneliness", ""]) == ("housing", "loneliness")


def test_a_received_referral_is_reduced_to_fields_that_identify_no_one():
    event = ReferralReceived(
        referral_id="ref-9",
        received_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        channel="bars-message",
        referrer_reference=Identifier(system="https://gp.example/refs", value="GP-REF-12345"),
        referrer=Referrer(
            kind="gp",
            ods_code="B82005",
            organisation_name="Leeds Road Surgery",
            contact=ReferrerContact(email="dr.smith@leedsroad.example.nhs.uk", phone="0113 496 0000"),
        ),
        person=PersonSummary(age_years=93, postcode_district="LS6 2AB", preferred_language="pa"),
        needs=["loneliness"],
        risk_flags=["self-harm-risk"],
        priority="urgent",
    )

    fact = dataclasses.asdict(received(event))

    assert fact == {
        "referral_id": "ref-9",
        "received_at": datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        "channel": "bars-message",
        "priority": "urgent",
        "age_band": "85+",
        "postcode_district": "LS6",
        "needs": ("loneliness",),
        "referrer_kind": "gp",
        "referrer_ods_code": "B82005",
        "imd_decile": None,
    }


def test_a_failed_notification_keeps_no_provider_error_text():
    event = NotificationFailed(
        referral_id="ref-9",
        notification_id="n-1",
        about_event_type="referral.triaged.v1",
        channel="email",
        failed_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        attempts=3,
        last_error="550 mailbox dr.smith@leedsroad.example.nhs.uk unavailable",
    )
    outcome = notification_failed(event)
    assert "leedsroad" not in repr(outcome)
    assert (outcome.succeeded, outcome.attempts) == (False, 3)
