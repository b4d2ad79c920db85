"""The committed schema snapshots are real JSON Schemas that accept what producers emit, and refuse junk."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from signpost_contracts import EVENT_TYPES, ContractModel
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.triage import FiredRule, Redirect, ReferralAssigned, ReferralTriaged, ReferralWaitlisted
from signpost_contracts.snapshots import snapshot_path
from support.events import referral_received

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

EXAMPLES: dict[str, dict] = {
    "referral.received.v1": referral_received("r-1").data,
    "referral.triaged.v1": ReferralTriaged(
        referral_id="r-1",
        decided_at=NOW,
        outcome="redirected",
        complexity="high",
        reasons=[FiredRule(rule_id="mental-health-crisis", description="risk of self-harm")],
        summary="Please contact the crisis team now.",
        redirect=Redirect(service="Crisis team", contact="NHS 111 option 2", urgent=True),
        policy_version="leeds-demo-2025.1",
    ).model_dump(mode="json"),
    "referral.assigned.v1": ReferralAssigned(
        referral_id="r-1", assigned_at=NOW, connector_id="c-1", connector_kind="paid", area="LS6"
    ).model_dump(mode="json"),
    "referral.waitlisted.v1": ReferralWaitlisted(
        referral_id="r-1", waitlisted_at=NOW, area="LS6", required_kind="volunteer", reason="no room"
    ).model_dump(mode="json"),
    "notification.sent.v1": NotificationSent(
        referral_id="r-1",
        notification_id="n-1",
        about_event_type="referral.assigned.v1",
        channel="email",
        sent_at=NOW,
        attempts=1,
    ).model_dump(mode="json"),
    "notification.failed.v1": NotificationFailed(
        referral_id="r-1",
        notification_id="n-1",
        about_event_type="referral.assigned.v1",
        channel="email",
        failed_at=NOW,
        attempts=5,
        last_error="550 mailbox unavailable",
    ).model_dump(mode="json"),
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


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_snapshot_refuses_a_payload_missing_its_referral_id(name):
    payload = {k: v for k, v in EXAMPLES[name].items() if k != "referral_id"}
    with pytest.raises(jsonschema.ValidationError, match="referral_id"):
        jsonschema.validate(payload, _snapshot(name))
