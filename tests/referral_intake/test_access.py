"""Bearer tokens: who may send, and a referrer reads only its own organisation's referrals."""

from __future__ import annotations

import json
import uuid

import pytest

from support.auth import bearer

WRITER = bearer("referrals:write", "referrals:read", ods="B82005")
FHIR_JSON = {"Content-Type": "application/fhir+json"}

pytestmark = pytest.mark.integration


async def test_no_token_is_401_with_an_operation_outcome_and_a_bearer_challenge(intake, make):
    response = await intake.client.post(
        "/fhir/ServiceRequest", json=make.referral(), headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    issue = response.json()["issue"][0]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("forbidden", "REC_UNAUTHORIZED")
    assert "Authorization: Bearer" in issue["diagnostics"]
    assert await intake.count("referrals") == 0


async def test_a_forged_token_is_401(intake):
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    response = await intake.client.get("/fhir/Task", params={"focus": "ServiceRequest/x"}, headers=forged)
    assert response.status_code == 401
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_UNAUTHORIZED"


async def test_a_token_without_the_write_scope_is_403(intake, make):
    response = await intake.post(make.referral(), headers=bearer("referrals:read"))
    assert response.status_code == 403
    issue = response.json()["issue"][0]
    assert issue["code"] == "forbidden"
    assert issue["details"]["coding"][0]["code"] == "REC_FORBIDDEN"
    assert "referrals:write" in issue["diagnostics"]
    assert await intake.count("referrals") == 0


async def test_an_organisation_cannot_send_a_referral_on_behalf_of_another(intake, make):
    response = await intake.post(make.referral(ods_code="B86010"), headers=bearer("referrals:write", ods="B82005"))
    assert response.status_code == 403
    assert "B86010" in response.json()["issue"][0]["diagnostics"]
    assert await intake.count("referrals") == 0
    assert await intake.count("outbox") == 0


async def test_a_write_token_without_an_ods_claim_cannot_send_a_referral_for_any_organisation(intake, make):
    no_organisation = bearer("referrals:write", "referrals:read", ods=None)
    for ods_code in ("B82005", "A81001"):
        response = await intake.post(make.referral(ods_code=ods_code), headers=no_organisation)
        assert response.status_code == 403, (ods_code, response.text)
        issue = response.json()["issue"][0]
        assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("forbidden", "REC_FORBIDDEN")
        assert "must carry the caller's ODS code (`ods` claim)" in issue["diagnostics"]
    assert await intake.count("referrals") == 0
    assert await intake.count("outbox") == 0


def _without_ids(outcome: dict, *ids: str) -> dict:
    """The OperationOutcome with its own id and the ids asked about blanked, to compare two answers."""
    text = json.dumps({**outcome, "id": "-"})
    for resource_id in ids:
        text = text.replace(resource_id, "<id>")
    return json.loads(text)


async def test_another_organisations_referral_looks_exactly_like_one_that_does_not_exist(intake, make):
    created = (await intake.post(make.referral())).json()
    task_id = (await intake.task_for(created["id"])).json()["entry"][0]["resource"]["id"]
    unknown_referral, unknown_task = str(uuid.uuid4()), str(uuid.uuid4())
    other = bearer("referrals:read", ods="B86010")

    for theirs, unknown in (
        (f"/fhir/ServiceRequest/{created['id']}", f"/fhir/ServiceRequest/{unknown_referral}"),
        (f"/fhir/Task/{task_id}", f"/fhir/Task/{unknown_task}"),
    ):
        refused = await intake.client.get(theirs, headers=other)
        missing = await intake.client.get(unknown, headers=other)
        assert refused.status_code == missing.status_code == 404, theirs
        assert refused.headers.keys() == missing.headers.keys()
        assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"
        assert _without_ids(refused.json(), created["id"], task_id) == _without_ids(
            missing.json(), unknown_referral, unknown_task
        )
        assert "B82005" not in refused.text

    searches = [await intake.task_for(referral_id, headers=other) for referral_id in (created["id"], unknown_referral)]
    assert [search.status_code for search in searches] == [200, 200]
    bundles = [{k: v for k, v in search.json().items() if k != "link"} for search in searches]
    assert bundles[0] == bundles[1] == {"resourceType": "Bundle", "type": "searchset", "total": 0}

    # The referrer itself still reads both.
    assert (await intake.client.get(f"/fhir/ServiceRequest/{created['id']}", headers=WRITER)).status_code == 200
    assert (await intake.client.get(f"/fhir/Task/{task_id}", headers=WRITER)).status_code == 200


async def test_operations_staff_with_read_all_may_read_every_organisations_referrals(intake, make):
    created = (await intake.post(make.referral())).json()
    ops = bearer("referrals:read", "referrals:read-all", ods=None)
    response = await intake.client.get(f"/fhir/ServiceRequest/{created['id']}", headers=ops)
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


async def test_reading_needs_the_read_scope(intake, make):
    created = (await intake.post(make.referral())).json()
    response = await intake.client.get(f"/fhir/ServiceRequest/{created['id']}", headers=bearer("referrals:write"))
    assert response.status_code == 403
    assert "referrals:read" in response.json()["issue"][0]["diagnostics"]


async def test_an_integration_engine_sends_a_referral_for_any_practice_and_follows_its_task(intake, make):
    hub = bearer("referrals:write-on-behalf", "referrals:read", ods=None)
    body = make.referral(ods_code="C84001")
    created = await intake.client.post("/fhir/ServiceRequest", json=body, headers={**hub, **FHIR_JSON})

    assert created.status_code == 201, created.text
    row = await intake.pool.fetchrow("SELECT requester_ods, sender_system FROM referrals")
    assert row["requester_ods"] == "C84001"
    assert row["sender_system"] == "test-user"
    assert (await intake.task_for(created.json()["id"], headers=hub)).json()["total"] == 1
    practice = bearer("referrals:read", ods="C84001")
    assert (await intake.task_for(created.json()["id"], headers=practice)).json()["total"] == 1


async def test_a_practice_token_still_cannot_send_for_another_practice(intake, make):
    body = make.referral(ods_code="C84001")
    refused = await intake.client.post("/fhir/ServiceRequest", json=body, headers={**WRITER, **FHIR_JSON})
    assert refused.status_code == 403
    assert "referrals:write-on-behalf" in refused.json()["issue"][0]["diagnostics"]
    assert await intake.count("referrals") == 0
