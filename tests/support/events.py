"""Builders for integration events used across tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.referrals import PersonSummary, ReferralReceived, Referrer, ReferrerContact


def referral_received(referral_id: str | None = None, **overrides: Any) -> EventEnvelope:
    referral_id = referral_id or str(uuid.uuid4())
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "received_at": datetime.now(UTC),
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
    fields.update(overrides)
    return new_event(ReferralReceived(**fields), subject=referral_id, correlation_id=referral_id)
