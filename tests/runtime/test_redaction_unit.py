"""Contact details come out of text bound for logs and failure events; ids, times and counts stay."""

from __future__ import annotations

import pytest

from signpost_runtime.redaction import EMAIL_ADDRESS, PHONE_NUMBER, without_contact_details

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "550 5.1.1 <gp.surgery@nhs.net>: Recipient address rejected",
            f"550 5.1.1 <{EMAIL_ADDRESS}>: Recipient address rejected",
        ),
        ("to A.N.Other+referrals@practice.example.nhs.uk, cc x@y.org", f"to {EMAIL_ADDRESS}, cc {EMAIL_ADDRESS}"),
        ("text to +447700900123 failed", f"text to {PHONE_NUMBER} failed"),
        ("call 07700 900123 after 2pm", f"call {PHONE_NUMBER} after 2pm"),
        ("landline (0113) 496 0000", f"landline {PHONE_NUMBER}"),
        ("+44 (0)113 496 0000", PHONE_NUMBER),
        ("0113-496-0000.", f"{PHONE_NUMBER}."),
    ],
)
def test_email_addresses_and_uk_phone_numbers_are_replaced_and_the_rest_kept(text: str, expected: str):
    assert without_contact_details(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "event 0e8a1234-5678-4abc-9def-0123456789ab at offset 01234567890123",
        "sent at 2026-12-03T07:10:00+00:00 after 3 attempt(s), retrying in 10.0s",
        "SMTP 451 4.7.1 try again later",
        "referral 20261203-0001 on partition 11",
    ],
)
def test_ids_times_and_provider_codes_are_left_alone(text: str):
    assert without_contact_details(text) == text
