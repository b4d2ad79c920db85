"""The committed schema snapshots are real JSON Schemas that accept what producers emit, and refuse junk."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from signpost_contracts import EVENT_TYPES, ContractModel
from signpost_contracts.snapshots import snapshot_path
from support import events

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

# Each with its optional parts filled in (a redirect, a required connector kind), so the schema checks them too.
EXAMPLES: dict[str, dict] = {
    event.type: event.data
    for event in (
        events.referral_received("r-1", at=NOW),
        events.referral_received_v2("r-1", at=NOW),
        events.referral_triaged("r-1", "redirected", at=NOW, complexity="high"),
        events.referral_assigned("r-1", at=NOW, complexity="low", terms=events.TERMS),
        events.referral_waitlisted("r-1", at=NOW, required_kind="volunteer"),
        events.notification_sent("r-1", "n-1", at=NOW),
        events.notification_failed("r-1", "n-1", at=NOW),
        events.urgent_unconfirmed("r-1", at=NOW),
        events.urgent_settled("r-1", at=NOW),
        events.referral_assigned_from_waitlist("r-1", at=NOW),
        events.referral_handed_over("r-1", at=NOW),
        events.handover_refused("r-1", at=NOW),
        events.referral_reassigned("r-1", at=NOW),
        events.reassignment_refused("r-1", at=NOW),
        events.referral_linked("r-1", at=NOW),
        events.referral_withdrawn("r-1", at=NOW),
        events.referral_erased("r-1", at=NOW),
        events.person_contact("r-1"),
        events.person_contact_erased("r-1"),
        events.contact_recorded("r-1", at=NOW),
        events.goals_set("r-1", at=NOW),
        events.session_recorded("r-1", at=NOW),
        events.extension_granted("r-1", at=NOW),
        events.extension_refused("r-1", at=NOW),
        events.measures_recorded("r-1", at=NOW),
        events.case_closed("r-1", at=NOW),
        events.handover_requested("r-1", at=NOW),
        events.reassignment_requested("r-1", at=NOW, connector_id="leeds-north-bilal"),
        events.service_status(at=NOW),
        events.roster_caseloads(at=NOW),
        events.pipeline_health(at=NOW),
        events.inbound_accepted("r-1", at=NOW),
        events.inbound_refused(at=NOW),
    )
}


def _snapshot(name: str) -> dict:
    return json.loads(snapshot_path(EVENT_TYPES[name]).read_text())


def test_there_is_an_example_for_every_event_type():
    assert set(EXAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_a_producer_payload_validates_against_the_committed_snapshot(name):
    jsonschema.validate(EXAMPLES[name], _snapshot(name))
    model: type[ContractModel] = EVENT_TYPES[name].model
    model.model_validate(EXAMPLES[name])


# What an event is about, when it is not one referral: an inbound refusal answers a message (no referral
# was made); the service's status and its connectors' caseloads are about the whole service, at a moment.
NOT_ABOUT_A_REFERRAL = {
    "referral.inbound-refused.v1": "answers",
    "service.status.v1": "as_of",
    "roster.caseloads.v1": "as_of",
    "service.pipeline-health.v1": "service",
}


# A tombstone has no data at all (a null Kafka value): its key and subject, the referral id, say what it is about.
TOMBSTONES = sorted(name for name, event_type in EVENT_TYPES.items() if event_type.tombstone)


def test_every_event_is_about_a_referral_except_those_named():
    without_referral = {name for name in EVENT_TYPES if "referral_id" not in EXAMPLES[name]}
    assert without_referral == set(NOT_ABOUT_A_REFERRAL) | set(TOMBSTONES)


@pytest.mark.parametrize("name", TOMBSTONES)
def test_a_tombstone_has_no_data_to_carry_anything_about_the_person(name):
    assert EXAMPLES[name] == {}
    assert _snapshot(name)["properties"] == {}
    assert _snapshot(name)["additionalProperties"] is False


@pytest.mark.parametrize("name", sorted(set(EVENT_TYPES) - set(TOMBSTONES)))
def test_the_snapshot_refuses_a_payload_missing_what_it_is_about(name):
    about = NOT_ABOUT_A_REFERRAL.get(name, "referral_id")
    payload = {k: v for k, v in EXAMPLES[name].items() if k != about}
    with pytest.raises(jsonschema.ValidationError, match=about):
        jsonschema.validate(payload, _snapshot(name))
