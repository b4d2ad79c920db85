"""The triage read API: roster, policy and decisions, behind the triage:read scope, with problem+json errors."""

from __future__ import annotations

import uuid

import pytest

from support.auth import bearer
from support.services import serving

pytestmark = pytest.mark.integration


async def test_reading_triage_needs_a_bearer_token_with_the_triage_read_scope(triage_app, write_roster, make_connector):
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        anonymous = await client.get("/roster")
        wrong_scope = await client.get("/policy", headers=bearer("referrals:read"))
        allowed = await client.get("/roster", headers=bearer("triage:read"))

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "missing bearer token: send 'Authorization: Bearer <JWT>'",
    }
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["detail"] == "token lacks the 'triage:read' scope needed here"
    assert allowed.status_code == 200
    assert allowed.json()["connectors"][0]["id"] == "a"


async def test_the_policy_in_force_and_an_unknown_decision_are_answered_in_json_and_problem_json(
    triage_app, write_roster, make_connector, policy_file
):
    unknown = str(uuid.uuid4())
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        policy = await client.get("/policy", headers=bearer("triage:read"))
        missing = await client.get(f"/decisions/{unknown}", headers=bearer("triage:read"))

    assert policy.status_code == 200
    body = policy.json()
    assert (body["version"], body["source"]) == ("test-policy-7", str(policy_file))
    assert body["policy"]["service_area"]["postcode_prefixes"] == ["LS", "BD1"]
    assert [rule["id"] for rule in body["policy"]["redirect_rules"]] == ["under-18", "crisis"]
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (missing.json()["status"], missing.json()["title"]) == (404, "Not Found")
    assert missing.json()["detail"].startswith(f"no triage decision for referral '{unknown}'")
