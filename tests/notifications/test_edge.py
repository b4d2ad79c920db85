"""Notifications' edge: malformed requests are 400 problems naming the parameter, and its OpenAPI is true."""

from __future__ import annotations

import pytest

from support.auth import bearer
from support.edge import assert_truthful, malformed_requests, probe

pytestmark = pytest.mark.integration

READER = bearer("notifications:read")


async def test_every_malformed_path_query_or_header_is_a_400_problem_naming_it(service):
    for target, headers, field in malformed_requests("/deliveries?referral_id=abc"):
        response = await service.client.get(target, headers={**READER, **headers})
        assert response.status_code == 400, (target, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == [field]
    nul = await service.client.get("/deliveries?referral_id=%00", headers=READER)
    assert nul.json()["errors"][0]["field"] == "referral_id"


async def test_a_missing_or_too_long_referral_id_is_a_400_problem_not_fastapis_422(service):
    missing = await service.client.get("/deliveries", headers=READER)
    too_long = await service.client.get("/deliveries", params={"referral_id": "x" * 201}, headers=READER)
    for response in (missing, too_long):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "referral_id"
    assert "Field required" in missing.json()["detail"]


async def test_the_openapi_document_lists_what_each_route_answers(service):
    document = (await service.client.get("/openapi.json")).json()
    found = await probe(service.client, document, authorised=READER, wrong_scope=bearer("referrals:read"))
    assert_truthful(document, found, error_media_type="application/problem+json")
    assert {path for path, _ in found.protected} == {
        "/deliveries",
        "/deliveries/failed",
        "/outcomes/awaiting-referral",
        "/urgent",
        "/urgent/{outcome_event_id}/acknowledge",
    }
