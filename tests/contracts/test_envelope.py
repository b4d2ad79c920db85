"""CloudEvents binary-mode envelope: what goes on the wire and how it is read back."""

from __future__ import annotations

import json

import pytest

from signpost_contracts import EnvelopeError, PayloadError, from_kafka, read_data
from signpost_contracts.events.common import NAME_LIMIT, clip
from signpost_contracts.events.referrals import ReferralReceived
from signpost_runtime.inbox import outside_event_key, signpost_event_key
from support.events import person_contact_erased, referral_received

pytestmark = pytest.mark.unit


def test_an_event_travels_as_ce_headers_and_a_json_body_keyed_by_referral_id():
    event = referral_received(referral_id="ref-1")
    headers = event.headers()
    assert headers["ce_type"] == "referral.received.v1"
    assert headers["ce_source"] == "/signpost/referral-intake"
    assert headers["ce_subject"] == "ref-1"
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert event.key() == b"ref-1"
    assert json.loads(event.value())["referral_id"] == "ref-1"
    assert headers["ce_id"] == event.id


def test_an_envelope_read_back_from_kafka_equals_the_one_sent():
    event = referral_received()
    assert from_kafka(event.headers(), event.value()) == event


def test_a_tombstone_reads_back_as_its_event_with_no_data():
    tombstone = person_contact_erased("ref-1")
    assert from_kafka(tombstone.headers(), None) == tombstone
    assert tombstone.data == {}


def test_a_null_value_under_a_type_that_has_data_is_refused_as_that_types_payload():
    # A tombstone is read as an empty payload: an event that needs data fails its model, so it is dead-lettered.
    event = referral_received(referral_id="ref-1")
    with pytest.raises(PayloadError, match="referral_id"):
        read_data(ReferralReceived, from_kafka(event.headers(), None).data)


@pytest.mark.parametrize(
    ("headers", "value", "complaint"),
    [
        ({}, b"{}", "missing CloudEvents header"),
        ({"ce_id": "1", "ce_type": "t", "ce_source": "s", "ce_time": "2026-01-01T00:00:00Z"}, b"{}", "ce_subject"),
        (
            {"ce_id": "1", "ce_type": "t", "ce_source": "s", "ce_subject": "r", "ce_time": "2026-01-01T00:00:00Z"},
            b"not json",
            "not JSON",
        ),
        (
            {"ce_id": "1", "ce_type": "t", "ce_source": "s", "ce_subject": "r", "ce_time": "2026-01-01T00:00:00Z"},
            b"[1, 2]",
            "JSON object",
        ),
        (
            {"ce_id": "1", "ce_type": "t", "ce_source": "s", "ce_subject": "r", "ce_time": "yesterday"},
            b"{}",
            "invalid CloudEvents attributes",
        ),
    ],
)
def test_a_malformed_record_is_refused_with_the_reason(headers, value, complaint):
    with pytest.raises(EnvelopeError, match=complaint):
        from_kafka(headers, value)


def test_a_consumer_ignores_fields_a_newer_producer_added():
    data = {**referral_received().data, "added_in_a_later_release": {"nested": True}}
    data["person"] = {**data["person"], "also_new": 1}
    assert read_data(ReferralReceived, data).person.age_band == "65-74"


def test_a_producer_cannot_send_a_field_the_contract_does_not_have():
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        ReferralReceived.model_validate({**referral_received().data, "typo_field": 1})


def test_text_in_other_scripts_travels_as_utf8_not_inflated_by_escapes():
    event = referral_received()
    event = event.model_copy(update={"data": {**event.data, "note": "\u793e\u4f1a"}})
    assert "\u793e\u4f1a".encode() in event.value()
    assert b"\\u793e" not in event.value()


def test_a_producer_clips_free_text_to_the_schema_limit_with_an_ellipsis():
    assert clip("short", NAME_LIMIT) == "short"
    clipped = clip("x" * 5000, NAME_LIMIT)
    assert clipped is not None
    assert len(clipped) == NAME_LIMIT
    assert clipped.endswith("\u2026")


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (b'{"valueDecimal": NaN}', "NaN is not a JSON value"),
        (b'{"a": Infinity}', "Infinity is not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, "nests JSON too deeply"),
    ],
)
def test_a_record_from_outside_that_python_would_read_but_json_does_not_allow_is_refused(value, complaint):
    headers = referral_received().headers()
    with pytest.raises(EnvelopeError, match=complaint):
        from_kafka(headers, value)


def test_outside_events_are_repeats_only_with_the_same_source_and_id():
    first = referral_received()
    same = first.model_copy()
    other_source = first.model_copy(update={"source": "urn:example:another-engine"})
    assert outside_event_key(first) == outside_event_key(same)
    assert outside_event_key(first) != outside_event_key(other_source)
    assert signpost_event_key(first) == signpost_event_key(other_source) == first.id
