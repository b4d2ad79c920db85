"""POST /fhir/$process-message on real PostgreSQL and the real broker: the NHS BaRS corpus and a social prescribing
message, its repeat, its withdrawal by update and delete, and the headers BaRS requires."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from support.auth import bearer
from support.bars import (
    NHS_MESSAGES,
    PROCESS_MESSAGE,
    SENDER,
    bars_headers,
    follow_up,
    service_request,
    social_prescribing_message,
)

pytestmark = pytest.mark.integration

CORPUS = sorted(NHS_MESSAGES.glob("*.json"))
STORES = ("referrals", "referral_requests", "referral_identifiers", "referral_bars_origin", "outbox")


async def _send(intake, body, headers: dict[str, str] | None = None):
    return await intake.client.post(PROCESS_MESSAGE, json=body, headers=headers or bars_headers())


async def _nothing_stored(intake) -> None:
    assert {table: await intake.count(table) for table in STORES} == dict.fromkeys(STORES, 0)


def _expected_refusal(path: Path, message: dict) -> tuple[str, str]:
    """(the element named, a word the diagnostics must contain) for one NHS example."""
    header = message["entry"][0]["resource"]
    if header["eventCoding"]["code"] == "servicerequest-response":
        return "Bundle.entry[0].resource.eventCoding.code", "servicerequest-response"
    index = next(i for i, e in enumerate(message["entry"]) if e["resource"]["resourceType"] == "ServiceRequest")
    [use_case] = [
        c for c in service_request(message)["category"][0]["coding"] if c["system"].endswith("usecases-categories-bars")
    ]
    return f"Bundle.entry[{index}].resource.category[0].coding[1]", f"'{use_case['code']}' ({use_case['display']})"


def test_the_nhs_corpus_is_there():
    assert len(CORPUS) >= 14, f"expected the NHS BaRS messages in {NHS_MESSAGES}"


@pytest.mark.parametrize("path", CORPUS, ids=[p.name.split("-")[0] for p in CORPUS])
async def test_each_nhs_example_is_refused_naming_the_service_it_asked_for_and_nothing_is_stored(intake, path):
    message = json.loads(path.read_text())
    headers = bars_headers()

    answer = await _send(intake, message, headers)

    assert answer.status_code == 422, answer.text
    [issue] = answer.json()["issue"]
    expression, named = _expected_refusal(path, message)
    assert (issue["code"], issue["expression"], issue["details"]["coding"][0]["code"]) == (
        "not-supported", [expression], "REC_UNPROCESSABLE_ENTITY")  # fmt: skip
    assert named in issue["diagnostics"]
    assert answer.headers["X-Request-ID"] == headers["X-Request-ID"]
    assert answer.headers["X-Correlation-ID"] == headers["X-Correlation-ID"]
    await _nothing_stored(intake)


async def test_a_social_prescribing_message_is_acknowledged_with_signposts_referral_and_announced(intake):
    message = social_prescribing_message()
    headers = bars_headers()

    answer = await _send(intake, message, headers)

    assert answer.status_code == 200, answer.text
    assert (answer.headers["X-Request-ID"], answer.headers["X-Correlation-ID"]) == (
        headers["X-Request-ID"], headers["X-Correlation-ID"])  # fmt: skip
    bundle = answer.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "message")
    header, referral = (entry["resource"] for entry in bundle["entry"])
    sent_message_id = message["id"]  # BaRS responses name the request's Bundle.id
    assert header["response"] == {"identifier": sent_message_id, "code": "ok"}
    assert header["focus"] == [{"reference": bundle["entry"][1]["fullUrl"]}]
    assert answer.headers["Location"] == bundle["entry"][1]["fullUrl"]
    read = await intake.client.get(f"/fhir/ServiceRequest/{referral['id']}", headers=SENDER)
    assert read.status_code == 200
    assert {"system": "urn:ietf:rfc:3986", "value": message["entry"][1]["fullUrl"]} in read.json()["identifier"]
    [received] = await intake.published(referral["id"])
    assert received["type"] == "referral.received.v2"
    assert (received["channel"], received["needs"], received["referrer"]["ods_code"]) == (
        "bars-message", ["loneliness"], "G82080")  # fmt: skip
    assert received["bars"] == {
        "message_id": sent_message_id,
        "source_endpoint": "https://fhir.nhs.uk/Id/dos-service-id|2222222222",
        "sender_ods": "G82080",
        "correlation_id": headers["X-Correlation-ID"],
    }


async def test_the_same_message_sent_again_is_409_duplicate_and_stored_once(intake):
    message, headers = social_prescribing_message(), bars_headers()
    first = await _send(intake, message, headers)
    assert first.status_code == 200, first.text

    again = await _send(intake, message, headers)

    assert again.status_code == 409, again.text
    [issue] = again.json()["issue"]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("duplicate", "REC_CONFLICT")
    assert first.json()["entry"][1]["resource"]["id"] in issue["diagnostics"]
    assert again.headers["X-Request-ID"] == headers["X-Request-ID"]
    assert (await intake.count("referrals"), await intake.count("outbox")) == (1, 1)


@pytest.mark.parametrize("missing", ["X-Correlation-ID", "X-Request-ID"])
async def test_a_message_without_a_bars_header_is_400_naming_it_and_nothing_is_stored(intake, missing):
    answer = await _send(intake, social_prescribing_message(), bars_headers(**{missing: None}))

    assert answer.status_code == 400, answer.text
    [issue] = answer.json()["issue"]
    assert (issue["code"], issue["expression"], issue["details"]["coding"][0]["code"]) == (
        "required", [missing], "REC_BAD_REQUEST")  # fmt: skip
    assert missing in issue["diagnostics"]
    await _nothing_stored(intake)


async def test_an_update_that_revokes_the_referral_cancels_its_task_and_announces_the_withdrawal(intake, make):
    message = social_prescribing_message()
    referral_id = (await _send(intake, message)).json()["entry"][1]["resource"]["id"]
    await intake.apply(make.assigned(referral_id, connector_id="leeds-north-amira"))
    update, headers = follow_up(message, "update", "revoked"), bars_headers()

    answer = await _send(intake, update, headers)

    assert answer.status_code == 200, answer.text
    assert answer.json()["entry"][1]["resource"]["status"] == "revoked"
    task = (await intake.task_for(referral_id, SENDER)).json()["entry"][0]["resource"]
    assert task["status"] == "cancelled"
    withdrawn = [e for e in await intake.published(referral_id) if e["type"] == "referral.withdrawn.v1"]
    assert [e["status"] for e in withdrawn] == ["revoked"]
    repeated = await _send(intake, update, headers)
    assert (repeated.status_code, repeated.json()["issue"][0]["code"]) == (409, "duplicate")
    once_more = await _send(intake, follow_up(message, "update", "revoked"))
    assert (once_more.status_code, once_more.json()["issue"][0]["code"]) == (409, "conflict"), once_more.text
    assert "only an active referral can be withdrawn" in once_more.json()["issue"][0]["diagnostics"]
    assert len([e for e in await intake.published(referral_id) if e["type"] == "referral.withdrawn.v1"]) == 1


async def test_a_delete_marks_the_referral_entered_in_error(intake):
    message = social_prescribing_message()
    referral_id = (await _send(intake, message)).json()["entry"][1]["resource"]["id"]

    answer = await _send(intake, follow_up(message, "delete", "entered-in-error"))

    assert answer.status_code == 200, answer.text
    task = (await intake.task_for(referral_id, SENDER)).json()["entry"][0]["resource"]
    assert task["status"] == "entered-in-error"


async def test_an_update_that_changes_anything_but_the_status_to_a_withdrawal_is_422(intake):
    message = social_prescribing_message()
    assert (await _send(intake, message)).status_code == 200

    answer = await _send(intake, follow_up(message, "update", "on-hold"))

    assert answer.status_code == 422, answer.text
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.status"]
    assert await intake.count("referral_requests") == 1


async def test_an_update_for_a_referral_signpost_never_received_is_404(intake):
    update = follow_up(social_prescribing_message(), "update", "revoked")
    update["entry"][1]["fullUrl"] = f"urn:uuid:{uuid.uuid4()}"
    update["entry"][0]["resource"]["focus"] = [{"reference": update["entry"][1]["fullUrl"]}]

    answer = await _send(intake, update)

    assert answer.status_code == 404, answer.text
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"
    await _nothing_stored(intake)


async def test_another_organisation_cannot_withdraw_it_and_learns_nothing_of_it(intake):
    message = social_prescribing_message()
    assert (await _send(intake, message)).status_code == 200
    stranger = bars_headers(**bearer("referrals:write", ods="B82005"))

    answer = await _send(intake, follow_up(message, "update", "revoked"), stranger)

    assert answer.status_code == 404, answer.text
