"""Bearer tokens: who may send, and a referrer reads only its own organisation's referrals."""

from __future__ import annotations

import pytest

from support.auth import bearer

pytestmark = pytest.mark.integration


async def test_no_token_is_401_with_an_operation_outcome_and_a_bearer_challenge(intake, make):
    response = await intake.client.post(
        "/fhir/ServiceRequest", json=make.referral(), headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "REC_UNAUTHORIZED"
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


async def test_another_organisation_cannot_read_the_referral_or_its_task(intake, make):
    created = (await intake.post(make.referral())).json()
    task_id = (await intake.task_for(created["id"])).json()["entry"][0]["resource"]["id"]
    other = bearer("referrals:read", ods="B86010")

    for path, params in (
        (f"/fhir/ServiceRequest/{created['id']}", None),
        ("/fhir/Task", {"focus": f"ServiceRequest/{created['id']}"}),
        (f"/fhir/Task/{task_id}", None),
    ):
        response = await intake.client.get(path, params=params, headers=other)
        assert response.status_code == 403, path
        assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_FORBIDDEN"
        assert "B82005" in response.json()["issue"][0]["diagnostics"]


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
