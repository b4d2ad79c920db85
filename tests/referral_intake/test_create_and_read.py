"""POST a ServiceRequest: stored and announced together, answered with 201 and where to find it."""

from __future__ import annotations

import json

import pytest

from signpost_contracts import Stream, topic
from support.auth import bearer
from support.infra import read_topic

pytestmark = pytest.mark.integration


async def test_a_new_referral_is_stored_announced_and_answered_with_201_and_location(intake, make):
    sent = make.referral(postcode="LS6 2AB", age=72, needs=["loneliness"])
    response = await intake.post(sent)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    referral_id = body["id"]
    assert response.headers["Location"] == f"{intake.base_url}/fhir/ServiceRequest/{referral_id}"
    assert body["meta"]["lastUpdated"]
    assert body["identifier"] == sent["identifier"]

    row = await intake.pool.fetchrow("SELECT * FROM referrals WHERE id = $1", referral_id)
    assert row["requester_ods"] == "B82005"
    assert row["nhs_number"] == sent["contained"][0]["identifier"][0]["value"]
    assert (row["identifier_system"], row["identifier_value"]) == (
        sent["identifier"][0]["system"],
        sent["identifier"][0]["value"],
    )
    assert json.loads(row["resource"]) == body

    [record] = await read_topic(intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=1)
    headers = {name: value.decode() for name, value in record.headers}
    assert record.key.decode() == referral_id
    assert headers["ce_type"] == "referral.received.v2"
    assert headers["ce_subject"] == referral_id
    assert headers["ce_source"] == "/signpost/referral-intake"
    assert headers["ce_id"]
    assert headers["ce_time"]
    event = json.loads(record.value)
    assert event["referral_id"] == referral_id
    assert event["channel"] == "fhir-rest"
    assert event["person"] == {
        "age_years": 72,
        "age_band": "65-74",
        "postcode_district": "LS6",
        "preferred_language": event["person"]["preferred_language"],
        "interpreter_needed": event["person"]["interpreter_needed"],
        "imd_decile": None,  # no IMD lookup configured here (test_deprivation_on_events.py has one)
    }
    assert event["needs"] == ["loneliness"]
    assert event["referrer"]["contact"]["email"] == "referrals@b82005.example.nhs.uk"


async def test_the_stored_referral_reads_back_as_it_was_answered(intake, make):
    created = await intake.post(make.referral(), headers={"X-Correlation-ID": "corr-42"})
    read = await intake.client.get(created.headers["Location"], headers=bearer("referrals:read", ods="B82005"))
    assert read.status_code == 200
    assert read.json() == created.json()
    [record] = await read_topic(intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=1)
    assert dict(record.headers)["ce_correlationid"] == b"corr-42"


async def test_the_same_identifier_sent_again_returns_the_first_referral_and_publishes_nothing_more(intake, make):
    sent = make.referral()
    first = await intake.post(sent)
    again = await intake.post(sent)
    also_json = await intake.client.post(
        "/fhir/ServiceRequest",
        content=json.dumps(sent),
        headers={**bearer("referrals:write"), "Content-Type": "application/json"},
    )

    assert first.status_code == 201
    assert again.status_code == also_json.status_code == 200
    assert again.json()["id"] == also_json.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert await intake.count("referrals") == 1
    assert await intake.count("outbox") == 1
    marker = await intake.post(make.referral())
    records = await read_topic(
        intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=3, timeout=3
    )
    assert sorted(r.key.decode() for r in records) == sorted([first.json()["id"], marker.json()["id"]])


async def test_two_organisations_may_use_the_same_identifier_for_different_referrals(intake, make):
    ours = make.referral()
    theirs = make.referral(ods_code="B86010")
    theirs["identifier"] = ours["identifier"]
    first = await intake.post(ours)
    second = await intake.post(theirs, headers=bearer("referrals:write", ods="B86010"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


async def test_unknown_fhir_paths_and_methods_answer_with_operation_outcomes(intake):
    missing = await intake.client.get("/fhir/Patient/123", headers=bearer("referrals:read"))
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"
    assert "/fhir/metadata" in missing.json()["issue"][0]["diagnostics"]

    wrong_method = await intake.client.delete("/fhir/ServiceRequest/abc", headers=bearer("referrals:write"))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["resourceType"] == "OperationOutcome"

    unknown_id = await intake.client.get("/fhir/ServiceRequest/no-such-id", headers=bearer("referrals:read"))
    assert unknown_id.status_code == 404
    assert "no-such-id" in unknown_id.json()["issue"][0]["diagnostics"]


async def test_what_the_capability_statement_says_about_versions_is_what_resources_carry(intake, make):
    created = await intake.post(make.referral())
    task = (await intake.task_for(created.json()["id"])).json()["entry"][0]["resource"]
    metadata = (await intake.client.get("/fhir/metadata")).json()
    versioning = {r["type"]: r["versioning"] for r in metadata["rest"][0]["resource"]}

    assert versioning["ServiceRequest"] == "versioned-update"  # versions, and If-Match on update and patch
    assert created.json()["meta"]["versionId"] == "1"
    assert created.headers["ETag"] == 'W/"1"'
    read = await intake.client.get(created.headers["Location"], headers=bearer("referrals:read"))
    assert (read.json()["meta"]["versionId"], read.headers["ETag"]) == ("1", 'W/"1"')
    assert versioning["Task"] == "no-version"
    assert "versionId" not in task["meta"]


async def test_metadata_needs_no_token(intake):
    response = await intake.client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"
    assert response.json()["implementation"]["url"] == f"{intake.base_url}/fhir"


async def test_links_never_follow_a_host_header_a_client_chose(intake, make):
    forged = {"Host": "phishing.example.com"}
    created = await intake.post(make.referral(), headers=forged)
    metadata = await intake.client.get("/fhir/metadata", headers=forged)

    assert created.headers["Location"].startswith(f"{intake.base_url}/fhir/ServiceRequest/")
    assert "phishing" not in created.text
    assert metadata.json()["implementation"]["url"] == f"{intake.base_url}/fhir"
