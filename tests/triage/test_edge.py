"""Triage's edge: malformed requests are 400 problems naming the parameter, and its OpenAPI is true."""

from __future__ import annotations

import pytest

from support.auth import bearer
from support.edge import assert_truthful, malformed_requests, probe
from support.services import database_gone, serving

pytestmark = pytest.mark.integration

READER = bearer("triage:read")


async def test_every_malformed_path_query_or_header_is_a_400_problem_naming_it(
    triage_app, write_roster, make_connector
):
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        for method, url in (
            ("GET", "/roster"), ("GET", "/policy"), ("GET", "/decisions/{referral_id}"), ("GET", "/waitlist"),
            ("POST", "/roster/reload"),
        ):  # fmt: skip
            for target, headers, field in malformed_requests(url):
                response = await client.request(method, target, headers={**READER, **headers})
                assert response.status_code == 400, (target, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_the_openapi_document_lists_what_each_route_answers(triage_app, write_roster, make_connector):
    async with serving(triage_app(write_roster([make_connector("a")]))) as client:
        document = (await client.get("/openapi.json")).json()
        found = await probe(client, document, authorised=READER, wrong_scope=bearer("referrals:read"))
    assert_truthful(document, found, error_media_type="application/problem+json")
    assert found.protected == {
        ("/roster", "get"), ("/roster/reload", "post"), ("/waitlist", "get"), ("/policy", "get"),
        ("/decisions/{referral_id}", "get"),
    }  # fmt: skip
    assert set(document["paths"]["/decisions/{referral_id}"]["get"]["responses"]) == {
        "200", "400", "401", "403", "404", "503"}  # fmt: skip


async def test_a_database_outage_is_a_503_problem_with_retry_after_never_a_500(
    triage_app, write_roster, make_connector
):
    app = triage_app(write_roster([make_connector("a")]))
    async with serving(app) as client, database_gone(app.state.runtime):
        response = await client.get("/roster", headers=READER)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert "retry in a few seconds" in response.json()["detail"]
