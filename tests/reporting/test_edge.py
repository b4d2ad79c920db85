"""Reporting's edge: malformed requests are 400 problems naming the parameter, and its OpenAPI is true."""

from __future__ import annotations

import pytest

from support.auth import bearer
from support.edge import assert_truthful, malformed_requests, probe
from support.services import database_gone

pytestmark = pytest.mark.integration

READER = bearer("reporting:read")


async def test_every_malformed_path_query_or_header_is_a_400_problem_naming_it(reporting):
    for url in ("/api/summary", "/api/dashboard", "/"):
        for target, headers, field in malformed_requests(url):
            response = await reporting.client.get(target, headers={**READER, **headers})
            assert response.status_code == 400, (target, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in response.json()["errors"]] == [field]
    token = await reporting.client.get("/?access_token=%00")
    assert token.json()["errors"][0]["field"] == "access_token"


async def test_the_openapi_document_lists_what_each_route_answers(reporting):
    document = (await reporting.client.get("/openapi.json")).json()
    found = await probe(reporting.client, document, authorised=READER, wrong_scope=bearer("referrals:read"))
    assert_truthful(document, found, error_media_type="application/problem+json")
    assert {path for path, _ in found.protected} == {
        "/api/summary",
        "/api/dashboard",
        "/api/exports/referrals",
        "/api/exports/outcomes",
        "/api/referrers/{ods_code}/feedback",
    }, "the dashboard sends strangers to sign in"
    dashboard = document["paths"]["/"]["get"]["responses"]
    for status in ("200", "403"):
        assert list(dashboard[status]["content"]) == ["text/html"], status


async def test_a_database_outage_is_a_503_problem_with_retry_after_never_a_500(reporting):
    async with database_gone(reporting.runtime):
        response = await reporting.client.get("/api/summary", headers=READER)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
