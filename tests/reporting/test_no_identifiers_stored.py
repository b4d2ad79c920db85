"""Reporting holds no direct identifiers: no column for them, and no identifying value from an event."""

from __future__ import annotations

import re
import uuid

import pytest

from signpost_contracts.events.common import Identifier
from signpost_contracts.events.referrals import PersonSummary, Referrer, ReferrerContact
from signpost_contracts.events.triage import FiredRule

pytestmark = pytest.mark.integration

PROJECTION_COLUMNS = {
    "referral_facts": {
        "referral_id", "received_at", "channel", "priority", "age_band", "postcode_district", "needs",
        "referrer_kind", "referrer_ods_code", "decided_at", "outcome", "complexity", "assigned_at",
        "connector_kind", "waitlisted_at", "status", "decision", "updated_at",
    },
    "notification_facts": {
        "notification_id", "referral_id", "channel", "about_event_type", "sent_at", "failed_at", "attempts",
        "updated_at",
    },
}  # fmt: skip
IDENTIFYING_NAME = re.compile(r"name|nhs|birth|dob|address|email|phone|contact|identifier|reference|error|reason")

PERSON_NAME = "Jane Testperson"
SECRETS = [
    PERSON_NAME,
    "Meadowbank Surgery",
    "jane.testperson@meadowbank.example.nhs.uk",
    "0113 496 0999",
    "MEADOW-REF-424242",
    "2AB",  # the inward half of the postcode
    "self-harm-risk",
    "Punjabi",
]
AGE_YEARS = 93


async def test_the_reporting_database_has_only_the_expected_tables_and_columns(reporting):
    rows = await reporting.runtime.pool.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    )
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])

    assert set(columns) == {*PROJECTION_COLUMNS, "inbox", "outbox", "schema_migrations"}
    for table, expected in PROJECTION_COLUMNS.items():
        assert columns[table] == expected, f"{table}: review any new column for identifying data first"
        assert not [c for c in columns[table] if IDENTIFYING_NAME.search(c)]


async def test_no_identifying_value_from_the_events_is_stored(reporting, events):
    # Digits only, so a random id can never contain one of the SECRETS (a hex id once held "2ab").
    referral = f"ref-{uuid.uuid4().int}"
    received = events.received(
        referral,
        referrer_reference=Identifier(system="https://meadowbank.example/refs", value="MEADOW-REF-424242"),
        referrer=Referrer(
            kind="gp",
            ods_code="B86001",
            organisation_name="Meadowbank Surgery",
            contact=ReferrerContact(email="jane.testperson@meadowbank.example.nhs.uk", phone="0113 496 0999"),
        ),
        person=PersonSummary(age_years=AGE_YEARS, postcode_district="LS6 2AB", preferred_language="pa"),
        risk_flags=["self-harm-risk"],
    )
    triaged = events.triaged(
        referral,
        summary=f"{PERSON_NAME} lives alone and would like company.",
        reasons=[FiredRule(rule_id="in-area", description=f"{PERSON_NAME} lives in LS6 2AB")],
    )
    waitlisted = events.waitlisted(referral, reason=f"{PERSON_NAME} needs a Punjabi-speaking connector")
    failed = events.failed(referral, error="550 mailbox jane.testperson@meadowbank.example.nhs.uk unavailable")
    await reporting.deliver(received, triaged, waitlisted, failed)

    pool = reporting.runtime.pool
    stored = [dict(r) for r in await pool.fetch("SELECT * FROM referral_facts")]
    stored += [dict(r) for r in await pool.fetch("SELECT * FROM notification_facts")]
    cells = [value for row in stored for value in row.values()]

    assert len(stored) == 2
    assert AGE_YEARS not in cells
    assert str(AGE_YEARS) not in [str(cell) for cell in cells]
    for secret in SECRETS:
        assert not [cell for cell in cells if secret.lower() in str(cell).lower()], f"{secret!r} was stored"
    row = await reporting.row(referral)
    assert (row["age_band"], row["postcode_district"], row["referrer_ods_code"]) == ("85+", "LS6", "B86001")
    assert row["status"] == "waitlisted"
