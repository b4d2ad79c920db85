"""The referrer withdraws an active referral by JSON Patch or PUT; If-Match is honoured; nothing else may change."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from signpost_runtime.auth import issue_token
from support.auth import TEST_JWT_SECRET, bearer, token

pytestmark = pytest.mark.integration

WRITER = bearer("referrals:write", "referrals:read", ods="B82005")
PATCH = {"Content-Type": "application/json-patch+json"}
FHIR_JSON = {"Content-Type": "application/fhir+json"}
REVOKE = [{"op": "replace", "path": "/status", "value": "revoked"}]
CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject='leeds-north-amira')}"}


async def _referral(intake, make) -> dict:
    created = await intake.post(make.referral())
    assert created.status_code == 201, created.text
    return created.json()


async def _patch(intake, referral_id: str, patch, headers: dict[str, str] | None = None):
    return await intake.client.patch(
        f"/fhir/ServiceRequest/{referral_id}", content=json.dumps(patch), headers={**WRITER, **PATCH, **(headers or {})}
    )


def _issue(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return response.json()["issue"][0]


async def _task(intake, referral_id: str) -> dict:
    return (await intake.task_for(referral_id)).json()["entry"][0]["resource"]


async def test_a_referrer_revokes_with_a_json_patch_and_gets_version_2_and_a_cancelled_task(intake, make):
    created = await _referral(intake, make)
    referral_id = created["id"]
    await intake.apply(make.assigned(referral_id, connector_id="leeds-north-amira"))

    withdrawn = await _patch(intake, referral_id, REVOKE)

    assert withdrawn.status_code == 200, withdrawn.text
    resource = withdrawn.json()
    assert (resource["status"], resource["meta"]["versionId"]) == ("revoked", "2")
    assert resource["meta"]["lastUpdated"] != created["meta"]["lastUpdated"]
    assert withdrawn.headers["ETag"] == 'W/"2"'
    read = await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=WRITER)
    assert (read.json(), read.headers["ETag"], read.headers["Last-Modified"]) == (
        resource, 'W/"2"', withdrawn.headers["Last-Modified"])  # fmt: skip
    [event] = [e for e in await intake.published(referral_id) if e["type"] == "referral.withdrawn.v1"]
    assert event["status"] == "revoked"
    task = await _task(intake, referral_id)
    assert (task["status"], task["statusReason"]["text"]) == ("cancelled", "The referrer withdrew this referral.")
    frozen = await intake.case_api(
        "POST", f"/{referral_id}/contacts", CONNECTOR, {"mode": "walk", "outcome": "reached"}
    )
    assert frozen.status_code == 409
    assert frozen.json()["detail"].startswith("withdrawn")


async def test_a_put_of_the_whole_resource_with_a_matching_if_match_marks_it_entered_in_error(intake, make):
    created = await _referral(intake, make)
    sent = {**copy.deepcopy(created), "status": "entered-in-error"}

    answer = await intake.client.put(f"/fhir/ServiceRequest/{created['id']}", json=sent,
                                     headers={**WRITER, **FHIR_JSON, "If-Match": 'W/"1"'})  # fmt: skip

    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.headers["ETag"]) == ("entered-in-error", 'W/"2"')
    assert (await _task(intake, created["id"]))["status"] == "entered-in-error"


async def test_a_stale_if_match_is_412_and_changes_nothing(intake, make):
    referral_id = (await _referral(intake, make))["id"]
    issue = _issue(await _patch(intake, referral_id, REVOKE, {"If-Match": 'W/"7"'}), 412)
    assert 'W/"1"' in issue["diagnostics"]
    assert (await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=WRITER)).json()["status"] == "active"
    assert [e["type"] for e in await intake.published(referral_id)] == ["referral.received.v2"]
    assert (await _patch(intake, referral_id, REVOKE, {"If-Match": 'W/"1"'})).status_code == 200


async def test_a_put_of_something_that_is_no_service_request_is_400_even_with_a_stale_if_match(intake, make):
    """The content is wrong whatever version is current, so it is said first (found by schemathesis: a 412)."""
    referral_id = (await _referral(intake, make))["id"]
    answer = await intake.client.put(
        f"/fhir/ServiceRequest/{referral_id}",
        json={"resourceType": "Patient", "id": referral_id},
        headers={**WRITER, **FHIR_JSON, "If-Match": 'W/"7"'},
    )
    assert _issue(answer, 400)["expression"] == ["resourceType"]


async def test_a_referral_that_is_no_longer_active_cannot_be_withdrawn_and_the_answer_says_its_status(intake, make):
    referral_id = (await _referral(intake, make))["id"]
    assert (await _patch(intake, referral_id, REVOKE)).status_code == 200
    again = [{"op": "replace", "path": "/status", "value": "entered-in-error"}]
    issue = _issue(await _patch(intake, referral_id, again), 409)
    assert "status is revoked" in issue["diagnostics"]
    assert issue["expression"] == ["ServiceRequest.status"]


async def test_any_other_change_is_422_naming_the_element_by_patch_or_by_put(intake, make):
    created = await _referral(intake, make)
    patch = [*REVOKE, {"op": "replace", "path": "/priority", "value": "urgent"}]
    issue = _issue(await _patch(intake, created["id"], patch), 422)
    assert issue["expression"] == ["ServiceRequest.priority"]
    complete = [{"op": "replace", "path": "/status", "value": "completed"}]
    completed = _issue(await _patch(intake, created["id"], complete), 422)
    assert completed["expression"] == ["ServiceRequest.status"]

    sent = {**copy.deepcopy(created), "status": "revoked"}
    sent["note"][0]["text"] = "changed"
    put = await intake.client.put(f"/fhir/ServiceRequest/{created['id']}", json=sent, headers={**WRITER, **FHIR_JSON})
    assert _issue(put, 422)["expression"] == ["ServiceRequest.note[0].text"]
    assert (await intake.client.get(f"/fhir/ServiceRequest/{created['id']}", headers=WRITER)).json() == created


async def test_a_malformed_patch_is_400_and_a_patch_in_another_media_type_is_415(intake, make):
    referral_id = (await _referral(intake, make))["id"]
    for malformed in ({"op": "replace"}, [{"op": "replace"}], [{"op": "frobnicate", "path": "/status"}]):
        assert _issue(await _patch(intake, referral_id, malformed), 400)["code"] == "structure"
    not_a_patch = await intake.client.patch(f"/fhir/ServiceRequest/{referral_id}", json=REVOKE,
                                            headers={**WRITER, **FHIR_JSON})  # fmt: skip
    assert "application/json-patch+json" in _issue(not_a_patch, 415)["diagnostics"]


async def test_an_intermediary_withdraws_a_referral_it_sent_for_a_practice(intake, make):
    hub = {"Authorization": "Bearer " + issue_token(TEST_JWT_SECRET, subject="icb-hub",
           scopes=["referrals:write-on-behalf", "referrals:read"], ods_code="QWO")}  # fmt: skip
    created = await intake.client.post("/fhir/ServiceRequest", json=make.referral(ods_code="C84001"),
                                       headers={**hub, **FHIR_JSON})  # fmt: skip
    assert created.status_code == 201, created.text
    answer = await intake.client.patch(f"/fhir/ServiceRequest/{created.json()['id']}", content=json.dumps(REVOKE),
                                       headers={**hub, **PATCH})  # fmt: skip
    assert answer.status_code == 200, answer.text


async def test_another_organisation_cannot_withdraw_and_is_answered_as_for_an_unknown_referral(intake, make):
    referral_id = (await _referral(intake, make))["id"]
    other = {**bearer("referrals:write", "referrals:read", ods="B86010"), **PATCH}
    unknown = str(uuid.uuid4())
    theirs = await intake.client.patch(f"/fhir/ServiceRequest/{referral_id}", content=json.dumps(REVOKE), headers=other)
    nobodys = await intake.client.patch(f"/fhir/ServiceRequest/{unknown}", content=json.dumps(REVOKE), headers=other)
    assert _issue(theirs, 404)["diagnostics"].replace(referral_id, "<id>") == _issue(nobodys, 404)[
        "diagnostics"
    ].replace(unknown, "<id>")
    assert (await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=WRITER)).json()["status"] == "active"
