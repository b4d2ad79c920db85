"""Reporting holds no direct identifiers: no column for them, and no identifying value from an event."""

from __future__ import annotations

import re
import uuid

import pytest

from signpost_contracts.events.common import Identifier
from signpost_contracts.events.referrals import PersonSummary, Referrer, ReferrerContact
from signpost_contracts.events.triage import FiredRule
from support.auth import bearer
from support.events import (
    case_closed,
    measures_recorded,
    referral_assigned_from_waitlist,
    referral_linked,
    referral_withdrawn,
)

pytestmark = pytest.mark.integration

PROJECTION_COLUMNS = {
    "referral_facts": {
        "referral_id", "received_at", "channel", "priority", "age_band", "postcode_district", "needs",
        "referrer_kind", "referrer_ods_code", "decided_at", "outcome", "complexity", "assigned_at",
        "connector_kind", "waitlisted_at", "status", "decision", "updated_at",
        "closed_at", "closure", "sessions_used", "withdrawn_at", "linked_at",
        # issue 9: a decile (never the postcode or LSOA), rule ids, the triage area, milestones; no connector id
        "imd_decile", "fired_rules", "redirect_urgent", "area", "stalled_after_days", "connector_since",
        "waitlist_area", "first_reached_at", "unreachable_at", "last_session_at",
    },
    "case_measures": {
        "referral_id", "stage", "recorded_at", "event_id", "ucla3_total", "ons_loneliness", "life_satisfaction",
        "worthwhile", "happiness", "anxiety",
    },
    "notification_facts": {
        "notification_id", "referral_id", "channel", "about_event_type", "sent_at", "failed_at", "attempts",
        "updated_at",
    },
    # No escalation text (it can name a channel's address) and no acknowledging staff member.
    "urgent_alert_facts": {
        "outcome_event_id", "referral_id", "raised_at", "escalations", "settled_at", "settled_how", "updated_at",
    },
    # Migration 0006's running counts (issue 9, 100 ms views): counts and sums only, by the same codes as above.
    "referral_tallies": {
        "status", "decision", "referrer_ods_code", "received", "closed", "closure", "referrals", "sessions",
    },
    "notification_tallies": {"bucket", "sent", "failed"},
    "measure_pair_tallies": {
        "bucket", *(f"{m}_{part}" for m in ("ucla3_total", "life_satisfaction", "worthwhile", "happiness", "anxiety")
                    for part in ("n", "baseline", "closing")),
        "loneliness_n", "loneliness_less_often", "loneliness_same", "loneliness_more_often",
    },
    # Which pair of answers each case is counted with (the numbers case_measures already holds).
    "measure_pairs_counted": {"referral_id", "baseline", "closing", "closed_day", "decile_group", "referrer_ods_code"},
    "referral_daily": {"day", "breakdown", "value", "referrals", "sessions"},
    # Migration 0008: the dashboard's counts per day by the filters' codes (district, route, referrer kind).
    "dashboard_daily": {
        "day", "area", "route", "referrer_kind", "referrals", "triaged", "assigned_or_waiting", "assigned", "waiting",
        "reached", "closed", "accepted", "declined", "redirected", "open", "open_unreachable",
        "notifications_sent", "notifications_failed",
    },
    # Migration 0009: how many waits per day of receipt fall in each bucket of length.
    "wait_daily": {"day", "wait", "bucket", "n"},
    # Migration 0010: each referrer's counts (its ODS code, as referral_facts holds it) per day.
    "referrer_daily": {"referrer_ods_code", "day", "breakdown", "value", "referrals"},
    "referrer_outcome_daily": {"referrer_ods_code", "day", "baseline", "closing", "people"},
    # Migration 0007: connectors' roster ids (staff, not people referred) with counts; no name, no referral.
    "connector_caseloads": {"connector_id", "kind", "capacity", "open_cases", "taking_new_work", "as_of", "updated_at"},
    "outcome_daily": {"day", "decile_group", "measure", "baseline", "closing", "people"},
    # Migration 0011: each service instance's pipeline figures (counts, Kafka group and topic names); no referral.
    "pipeline_health": {"service", "instance", "as_of", "every_seconds", "outbox_waiting", "outbox_parked",
                        "dead_letters_sent", "dead_letters_parked", "consumers", "updated_at"},
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


async def test_no_identifier_from_a_case_is_stored_beyond_its_key_nor_shown_by_the_api(reporting, events):
    referral, other_referral = f"ref-{uuid.uuid4().int}", f"ref-{uuid.uuid4().int}"
    withdrawn = f"ref-{uuid.uuid4().int}"
    person_key = f"pk-{uuid.uuid4().hex}"
    connector = "connector-jane-testperson"
    nhs_number = "943 476 5919"  # NHS numbers never travel on events; a connector might still type one
    case_text = [
        f"Visit {PERSON_NAME} at 12 Meadow Lane",
        f"Ring her GP about {nhs_number}",
        "Meadowbank Befriending Circle",
    ]
    await reporting.deliver(
        events.received(referral, person_key=person_key),
        events.waitlisted(referral),
        referral_assigned_from_waitlist(referral, connector_id=connector),
        measures_recorded(referral, stage="baseline", ucla3=[3, 3, 2], ucla3_total=8),
        measures_recorded(referral, stage="closing", ucla3=[1, 2, 1], ucla3_total=4),
        case_closed(referral, goals=case_text[:2], onward=case_text[2:]),
        referral_linked(other_referral, linked_to_referral_id=referral, reason=f"{PERSON_NAME} has an open case"),
        events.received(withdrawn, person_key=person_key),
        referral_withdrawn(withdrawn),
    )

    pool = reporting.runtime.pool
    stored = [dict(r) for table in PROJECTION_COLUMNS for r in await pool.fetch(f"SELECT * FROM {table}")]
    cells = [str(value).lower() for row in stored for name, value in row.items() if name != "referral_id"]
    for secret in [referral, other_referral, withdrawn, person_key, connector, nhs_number, PERSON_NAME, *case_text]:
        assert not [cell for cell in cells if secret.lower() in cell], f"{secret!r} was stored"
    keys = {row["referral_id"] for row in stored if "referral_id" in row}  # the tallies have none
    assert keys == {referral, other_referral, withdrawn}, "each referral only as its own row's key"

    response = await reporting.client.get("/api/summary", headers=bearer("reporting:read"))
    assert response.status_code == 200
    shown = response.text.lower()
    for secret in [referral, other_referral, withdrawn, person_key, connector, nhs_number, PERSON_NAME, *case_text]:
        assert secret.lower() not in shown, f"{secret!r} was shown"
    cases = response.json()["cases"]
    assert (cases["closed"], cases["withdrawn"], cases["linked"]) == (1, 1, 1), "the case events were projected"
    assert cases["outcomes"]["ucla3"]["n"] == 1
