"""The BaRS servicerequest-response message Signpost sends: its shape beside NHS England's REFRESP examples."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from notifications.adapters.bars_reply import (
    NOTE_LIMIT,
    REFERRAL_IDENTIFIER,
    REJECTED_REASONS,
    BarsReply,
    SignpostIdentity,
    as_json,
    servicerequest_response,
)
from support.fhir_examples import fhir_examples

pytestmark = pytest.mark.unit

REFERRER_ENDPOINT = "https://fhir.nhs.uk/Id/dos-service-id|2000072489"
SIGNPOST = SignpostIdentity(
    "Leeds community connectors", "https://fhir.nhs.uk/Id/dos-service-id|2000099999", ods_code="X26", version="0.1.0"
)
DECIDED_AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
NOW = datetime(2025, 3, 4, 10, 31, tzinfo=UTC)


def _reply(status: str = "accepted", **overrides: Any) -> BarsReply:
    fields: dict[str, Any] = {
        "status": status,
        "referral_id": "ref-" + uuid.uuid4().hex[:8],
        "request_message_id": str(uuid.uuid4()),
        "source_endpoint": REFERRER_ENDPOINT,
        "correlation_id": str(uuid.uuid4()),
        "at": DECIDED_AT,
        "signpost": SIGNPOST,
        "sender_ods": "B86010",
        **overrides,
    }
    return BarsReply(**fields)


def _built(reply: BarsReply, message_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    bundle = servicerequest_response(reply, message_id=message_id or str(uuid.uuid4()), now=NOW)
    Bundle.model_validate(bundle)  # R4 (R4B), as a receiver parses it
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    header = bundle["entry"][0]["resource"]
    return bundle, header, by_url[header["focus"][0]["reference"]]


def _example(prefix: str) -> dict[str, Any]:
    [path] = fhir_examples("bars-messages").glob(f"{prefix}-*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_an_accepted_referral_is_answered_to_the_endpoint_the_referrer_gave_naming_their_request():
    reply = _reply("accepted", note="A connector will phone within five working days.")
    bundle, header, service_request = _built(reply, message_id="6a4f7f0e-1c0b-4a8e-9f57-0d4a7c3f2b11")

    assert bundle["type"] == "message"
    assert bundle["id"] == header["id"] == "6a4f7f0e-1c0b-4a8e-9f57-0d4a7c3f2b11"
    assert bundle["entry"][0]["fullUrl"] == "urn:uuid:6a4f7f0e-1c0b-4a8e-9f57-0d4a7c3f2b11"
    assert header["eventCoding"]["code"] == "servicerequest-response"
    assert header["response"] == {"identifier": reply.request_message_id, "code": "ok"}
    assert header["destination"][0]["endpoint"] == REFERRER_ENDPOINT
    assert header["source"]["endpoint"] == SIGNPOST.endpoint
    assert header["source"]["name"] == "Leeds community connectors"
    assert header["reason"]["coding"][0]["code"] == "new"
    assert service_request["status"] == "active"
    assert service_request["id"] == reply.referral_id
    assert service_request["identifier"] == [{"system": REFERRAL_IDENTIFIER, "value": reply.referral_id}]
    assert service_request["note"][0]["text"] == "A connector will phone within five working days."
    assert "reasonCode" not in service_request


def test_sender_and_receiver_are_organisations_in_the_message_named_by_ods_code():
    bundle, header, _ = _built(_reply())
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    receiver = by_url[header["destination"][0]["receiver"]["reference"]]
    sender = by_url[header["sender"]["reference"]]
    assert receiver["identifier"] == [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B86010"}]
    assert sender["identifier"][0]["value"] == "X26"
    assert sender["name"] == "Leeds community connectors"


def test_a_referrer_without_an_ods_code_is_still_a_valid_receiving_organisation():
    bundle, header, _ = _built(_reply(sender_ods=None))
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    assert by_url[header["destination"][0]["receiver"]["reference"]]["name"] == "Referring organisation"


def test_a_rejection_is_a_revoked_service_request_with_a_rejected_reasons_bars_code_and_its_text():
    reply = _reply("rejected", rejection_code="OTH", note="Not eligible: the person lives outside Leeds.")
    _, header, service_request = _built(reply)
    assert service_request["status"] == "revoked"
    [reason] = service_request["reasonCode"]
    assert reason["coding"] == [{"system": REJECTED_REASONS, "code": "OTH", "display": "Other"}]
    assert reason["text"] == "Not eligible: the person lives outside Leeds."
    assert header["reason"]["coding"][0]["code"] == "new"


def test_could_not_contact_is_failed_contact():
    _, _, service_request = _built(_reply("rejected", rejection_code="FC"))
    assert service_request["reasonCode"][0]["coding"][0]["display"] == "Failed Contact"


def test_a_completed_referral_is_an_update_with_status_completed():
    _, header, service_request = _built(_reply("completed", note="Goals met; now at the Tuesday walking group."))
    assert service_request["status"] == "completed"
    assert header["reason"]["coding"][0]["code"] == "update"


def test_the_reply_uses_the_profiles_event_and_definition_pattern_of_the_nhs_response_examples():
    example = _example("REFRESP01")
    theirs = example["entry"][0]["resource"]
    bundle, ours, service_request = _built(_reply())
    assert bundle["meta"]["profile"] == example["meta"]["profile"]
    assert ours["meta"]["profile"] == theirs["meta"]["profile"]
    assert ours["eventCoding"] == theirs["eventCoding"]
    assert ours["reason"]["coding"][0]["system"] == theirs["reason"]["coding"][0]["system"]
    assert ours["response"]["code"] == theirs["response"]["code"]
    assert ours["definition"].startswith("https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-")
    assert "response" in ours["definition"]
    assert set(ours) - {"meta"} <= set(theirs)
    their_request = next(e["resource"] for e in example["entry"] if e["fullUrl"] == theirs["focus"][0]["reference"])
    assert service_request["meta"]["profile"] == their_request["meta"]["profile"]
    assert service_request["intent"] == their_request["intent"]
    assert service_request["category"][0]["coding"][0] == their_request["category"][0]["coding"][0]


def test_the_rejection_code_comes_from_the_code_system_the_nhs_rejection_example_uses():
    example = json.dumps(_example("REFRESP02"))
    assert f'"system": "{REJECTED_REASONS}"' in example
    assert '"code": "RRNA"' in example
    _, _, service_request = _built(_reply("rejected", rejection_code="RRNA"))
    assert service_request["reasonCode"][0]["coding"][0]["code"] == "RRNA"


def test_the_same_reply_and_message_id_give_byte_identical_json():
    reply = _reply("rejected", rejection_code="OTH", note="Redirected to the community mental health team.")
    message_id = str(uuid.uuid4())
    first = as_json(servicerequest_response(reply, message_id=message_id, now=NOW))
    again = as_json(servicerequest_response(reply, message_id=message_id, now=NOW))
    other = as_json(servicerequest_response(reply, message_id=str(uuid.uuid4()), now=NOW))
    assert first == again
    assert first != other


def test_a_long_note_is_cut_and_made_one_plain_line():
    note = "Line one\x07\nsee https://example.org/x " + "very long " * 200
    _, _, service_request = _built(_reply("accepted", note=note))
    text = service_request["note"][0]["text"]
    assert len(text) <= NOTE_LIMIT
    assert "\n" not in text
    assert "\x07" not in text
    assert "https://" not in text


@pytest.mark.parametrize(
    ("status", "overrides", "complaint"),
    [
        ("rejected", {}, "needs rejection_code"),
        ("accepted", {"rejection_code": "OTH", "note": "x"}, "only for a rejected reply"),
        ("rejected", {"rejection_code": "OTH"}, "OTH needs a note"),
        ("accepted", {"at": datetime(2025, 3, 4, 10, 30)}, "timezone-aware"),  # naive: the fault under test
    ],
)
def test_a_reply_bars_cannot_express_is_refused_saying_why(status, overrides, complaint):
    with pytest.raises(ValueError, match=complaint):
        _reply(status, **overrides)


def test_a_message_id_that_is_not_a_uuid_is_refused():
    with pytest.raises(ValueError):
        servicerequest_response(_reply(), message_id="not-a-uuid", now=NOW)
