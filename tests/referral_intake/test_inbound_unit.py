"""The inbound topic's use case on a fake unit: who may send, the REST route's checks, the answers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from referral_intake.adapters.outcome import FhirError, Issue
from referral_intake.inbound.producers import Producers, ProducersFileError, load_producers
from referral_intake.inbound.receive import InboundIntake
from referral_intake.inbound.replies import bounded_outcome, refused
from referral_intake.service import IntakeService
from signpost_contracts import INBOUND_REFERRAL_TYPE, EventEnvelope
from signpost_contracts.events.inbound import OUTCOME_LIMIT_BYTES
from signpost_devstack.synthetic import gp_referral
from support.bars import REQUESTER_ODS, follow_up, social_prescribing_message
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

EXAMPLE_PRODUCERS = Path(__file__).resolve().parents[2] / "examples" / "inbound-producers.toml"
SOURCE = "urn:example:leeds-integration-engine"  # sends for B82005 and B86010 in the example file


@pytest.fixture(scope="module")
def inbound() -> InboundIntake:
    return InboundIntake(IntakeService(), load_producers(EXAMPLE_PRODUCERS), max_json_depth=64)


def message(data: dict, *, source: str = SOURCE, event_type: str = INBOUND_REFERRAL_TYPE, **more) -> EventEnvelope:
    return EventEnvelope(
        type=event_type, source=source, subject="their-ref-1", correlationid="corr-1", data=data, **more
    )


def referral(ods_code: str = "B82005") -> dict:
    return gp_referral(rng=random.Random(), ods_code=ods_code)


async def test_an_accepted_message_stores_the_referral_announces_it_as_kafka_and_acknowledges_it(inbound):
    unit, sent = FakeIntakeUnit(), message(referral())
    await inbound.receive(unit, sent)

    [stored] = unit.referrals.by_id.values()
    received, ack = unit.events
    assert received.type == "referral.received.v2"
    assert received.data["channel"] == "kafka"
    assert received.data["sender"] == {"system": "leeds-integration-engine", "ods_code": "RR8"}
    assert received.correlationid == "corr-1"
    assert ack.type == "referral.inbound-accepted.v1"
    assert ack.data["answers"] == {"event_id": sent.id, "source": SOURCE}
    assert (ack.data["referral_id"], ack.data["task_id"]) == (stored.id, stored.task_id)
    assert ack.data["duplicate"] is False
    assert (ack.subject, ack.causationid, ack.correlationid) == (sent.id, sent.id, "corr-1")


async def test_the_same_referral_in_a_new_message_is_acknowledged_with_the_first_referral_and_not_announced(inbound):
    unit, body = FakeIntakeUnit(), referral()
    await inbound.receive(unit, message(body))
    await inbound.receive(unit, message(body))

    assert len(unit.referrals.by_id) == 1
    assert [e.type for e in unit.events] == [
        "referral.received.v2",
        "referral.inbound-accepted.v1",
        "referral.inbound-accepted.v1",
    ]
    first, again = unit.events[1].data, unit.events[2].data
    assert again["referral_id"] == first["referral_id"]
    assert again["duplicate"] is True


async def test_a_referral_without_an_identifier_is_taken_because_the_message_id_is_its_retry_key(inbound):
    body = referral()
    del body["identifier"]
    unit = FakeIntakeUnit()
    await inbound.receive(unit, message(body))
    assert len(unit.referrals.by_id) == 1


async def test_an_unknown_producer_is_refused_naming_its_source(inbound):
    unit = FakeIntakeUnit()
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(unit, message(referral(), source="urn:example:someone-else"))
    assert refusal.value.status == 403
    [issue] = refusal.value.issues
    assert issue.expression == "ce_source"
    assert "urn:example:someone-else" in issue.diagnostics
    assert "INBOUND_PRODUCERS" in issue.diagnostics
    assert unit.referrals.by_id == {}
    assert unit.events == []


async def test_a_producer_is_refused_for_an_organisation_it_may_not_send_for(inbound):
    unit = FakeIntakeUnit()
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(unit, message(referral(ods_code="Y01234")))
    assert refusal.value.status == 403
    [issue] = refusal.value.issues
    assert issue.expression == "ServiceRequest.requester"
    assert "B82005, B86010 only" in issue.diagnostics
    assert "Y01234" in issue.diagnostics
    assert unit.referrals.by_id == {}
    assert unit.events == []


async def test_an_invalid_service_request_is_refused_with_the_rest_routes_own_issues(inbound):
    body = referral()
    body["status"] = "finished"
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(FakeIntakeUnit(), message(body))
    assert refusal.value.status == 400
    assert [i.expression for i in refusal.value.issues] == ["ServiceRequest.status"]


def bars_message_for(ods_code: str) -> dict:
    """Signpost's social prescribing BaRS message, as a surgery the example producer sends for would send it."""
    return json.loads(json.dumps(social_prescribing_message()).replace(REQUESTER_ODS, ods_code))


async def test_a_bars_message_bundle_is_taken_as_its_referral_with_its_origin_for_the_responses(inbound):
    unit, bundle = FakeIntakeUnit(), bars_message_for("B82005")
    await inbound.receive(unit, message(bundle))

    [stored] = unit.referrals.by_id.values()
    received, ack = unit.events
    assert received.data["channel"] == "kafka"
    assert received.data["needs"] == ["loneliness"]
    assert received.data["bars"] == {
        "message_id": bundle["id"],
        "source_endpoint": "https://fhir.nhs.uk/Id/dos-service-id|2222222222",
        "sender_ods": "B82005",
        "correlation_id": "corr-1",
    }
    assert (ack.type, ack.data["referral_id"]) == ("referral.inbound-accepted.v1", stored.id)


async def test_a_bars_update_or_cancellation_on_the_inbound_topic_is_refused_naming_where_it_goes(inbound):
    cancellation = follow_up(bars_message_for("B82005"), "update", "revoked")
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(FakeIntakeUnit(), message(cancellation))
    assert refusal.value.status == 422
    [issue] = refusal.value.issues
    assert issue.code == "not-supported"
    assert "$process-message" in issue.diagnostics


async def test_a_bars_message_is_held_to_the_producers_organisations_as_a_service_request_is(inbound):
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(FakeIntakeUnit(), message(bars_message_for("Y01234")))
    assert refusal.value.status == 403


async def test_another_cloudevents_type_is_refused_naming_the_one_expected(inbound):
    with pytest.raises(FhirError) as refusal:
        await inbound.receive(FakeIntakeUnit(), message(referral(), event_type="referral.assigned.v1"))
    [issue] = refusal.value.issues
    assert issue.expression == "ce_type"
    assert INBOUND_REFERRAL_TYPE in issue.diagnostics


async def test_data_nested_deeper_than_allowed_is_refused():
    inbound = InboundIntake(IntakeService(), load_producers(EXAMPLE_PRODUCERS), max_json_depth=4)
    with pytest.raises(FhirError, match="more than 4 levels deep"):
        await inbound.receive(FakeIntakeUnit(), message(referral()))


def test_a_refusal_with_many_long_issues_is_cut_to_the_limit_and_says_how_many_were_left_out():
    error = FhirError([Issue("value", "x" * 5000, f"ServiceRequest.note[{n}]") for n in range(50)])
    outcome = bounded_outcome(error)

    assert len(json.dumps(outcome).encode()) <= OUTCOME_LIMIT_BYTES
    *kept, note = outcome["issue"]
    assert 0 < len(kept) < 50
    assert all(len(issue["diagnostics"]) <= 2000 for issue in kept)
    assert note["severity"] == "information"
    assert note["diagnostics"].startswith(f"{50 - len(kept)} more problem(s) were left out")
    reply = refused(message({}), error, at=message({}).time)
    assert reply.data["operation_outcome"]["issue"] == outcome["issue"]


def test_no_producers_file_means_no_producer_is_known():
    assert load_producers(None).identify(SOURCE) is None


def test_a_producers_file_error_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "producers.toml"
    path.write_text('[[producer]]\nsource = "urn:a"\nsystem = "a"\nsend_for = []\n')
    with pytest.raises(ProducersFileError, match=r"producers.toml: field 'producer\[0\].send_for'"):
        load_producers(path)
    path.write_text('[[producer]]\nsource = "urn:a"\nsystem = "a"\nsend_for = ["X"]\nsendfor = 1\n')
    with pytest.raises(ProducersFileError, match=r"field 'producer\[0\].sendfor' is not a known setting"):
        load_producers(path)


def test_a_source_listed_twice_is_refused(tmp_path):
    path = tmp_path / "producers.toml"
    entry = '[[producer]]\nsource = "urn:a"\nsystem = "a"\nsend_for = ["X"]\n'
    path.write_text(entry * 2)
    with pytest.raises(ProducersFileError, match="urn:a is listed more than once"):
        load_producers(path)


def test_a_producer_sends_as_an_intermediary_for_its_listed_organisations_only():
    producer = load_producers(EXAMPLE_PRODUCERS).identify(SOURCE)
    assert producer is not None
    assert producer.principal.is_intermediary
    assert producer.principal.may_send_for("B86010")
    assert not producer.principal.may_send_for("Y01234")
    assert Producers({}, "none").identify(SOURCE) is None
