"""Intake's edge: malformed requests are 400s naming the parameter, and its OpenAPI is true (FHIR and cases)."""

from __future__ import annotations

import pytest

from support.auth import bearer, token
from support.edge import assert_truthful, malformed_requests, operations, probe

pytestmark = pytest.mark.integration

WRITER = bearer("referrals:write", "referrals:read")


def _named_in_outcome(response, field: str) -> None:
    assert response.status_code == 400, (field, response.text)
    assert response.headers["content-type"].startswith("application/fhir+json")
    [issue] = response.json()["issue"]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("invalid", "REC_BAD_REQUEST")
    assert issue["expression"] == [field]
    assert field.lower() in issue["diagnostics"].lower()


async def test_a_nul_in_the_task_search_is_a_400_naming_focus_not_a_500(intake):
    # What schemathesis found: PostgreSQL cannot compare text holding NUL, and the search reached it.
    response = await intake.client.get("/fhir/Task?focus=%00ServiceRequest", headers=WRITER)
    _named_in_outcome(response, "focus")


async def test_every_malformed_path_query_or_header_is_a_400_operation_outcome_naming_it(intake):
    urls = ("/fhir/metadata", "/fhir/Task?focus=ServiceRequest/abc", "/fhir/Task/{id}", "/fhir/ServiceRequest/{id}")
    for url in urls:
        for target, headers, field in malformed_requests(url):
            _named_in_outcome(await intake.client.get(target, headers={**WRITER, **headers}), field)


async def test_a_malformed_or_over_long_correlation_id_is_refused_and_nothing_is_stored(intake, make):
    for correlation_id in ("abc\x00def", "x" * 201):
        response = await intake.post(make.referral(), headers={"X-Correlation-ID": correlation_id})
        assert response.status_code == 400, response.text
        assert response.json()["issue"][0]["expression"] in (["x-correlation-id"], ["X-Correlation-ID"])
    assert await intake.count("referrals") == 0
    assert (await intake.post(make.referral(), headers={"X-Correlation-ID": "x" * 200})).status_code == 201


def _only(document: dict, prefix: str) -> dict:
    """The document with the paths under `prefix` (and health and metrics, which every document has)."""
    kept = {p: item for p, item in document["paths"].items() if p.startswith((prefix, "/health")) or p == "/metrics"}
    return {**document, "paths": kept}


async def test_the_openapi_document_lists_what_each_route_answers_fhir_json_under_fhir(intake):
    document = _only((await intake.client.get("/openapi.json")).json(), "/fhir")
    found = await probe(intake.client, document, authorised=WRITER, wrong_scope=bearer("reporting:read"))
    assert_truthful(document, found, error_media_type="application/fhir+json")

    assert {path for path, _ in found.protected} == {"/fhir/ServiceRequest", "/fhir/ServiceRequest/{referral_id}",
                                                    "/fhir/Task", "/fhir/Task/{task_id}",
                                                    "/fhir/$process-message"}  # fmt: skip
    for path, method, operation in operations(document):
        if path.startswith("/fhir"):
            for status, response in operation["responses"].items():
                assert list(response["content"]) == ["application/fhir+json"], (method, path, status)
            assert "406" in operation["responses"], (method, path)
    create = document["paths"]["/fhir/ServiceRequest"]["post"]
    assert set(create["responses"]) == {
        "200", "201", "400", "401", "403", "406", "409", "412", "413", "415", "422", "503"
    }  # fmt: skip
    schema = create["requestBody"]["content"]["application/fhir+json"]["schema"]
    assert schema["properties"]["resourceType"]["enum"] == ["ServiceRequest"]
    assert schema["required"] == ["resourceType", "status", "intent", "subject"]
    assert create["requestBody"]["required"] is True
    headers = {p["name"]: p["schema"] for p in create["parameters"] if p["in"] == "header"}
    assert headers == {"X-Request-ID": {"type": "string", "format": "uuid"},
                       "X-Correlation-ID": {"type": "string", "maxLength": 200},
                       "If-None-Exist": {"type": "string"}}  # fmt: skip
    task_search = document["paths"]["/fhir/Task"]["get"]["parameters"]
    assert [(p["name"], p.get("required", False)) for p in task_search] == [
        ("focus", False), ("owner:identifier", False), ("status", False), ("_lastUpdated", False),
        ("_count", False), ("_cursor", False), ("Prefer", False),
    ]  # fmt: skip
    [identifier, _] = document["paths"]["/fhir/ServiceRequest"]["get"]["parameters"]
    assert (identifier["name"], identifier["required"]) == ("identifier", True)


async def test_a_referral_search_without_identifier_says_how_to_search(intake):
    response = await intake.client.get("/fhir/ServiceRequest", headers=WRITER)
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("required", ["identifier"])
    assert "GET /fhir/ServiceRequest?identifier=<system>|<value>" in issue["diagnostics"]


async def test_the_case_api_documents_what_each_route_answers_all_errors_as_problems(intake):
    document = _only((await intake.client.get("/openapi.json")).json(), "/cases")
    connector = {"Authorization": f"Bearer {token('cases:write', subject='leeds-north-amira')}"}
    found = await probe(intake.client, document, authorised=connector, wrong_scope=WRITER)
    assert_truthful(document, found, error_media_type="application/problem+json")

    case_paths = {path for path in document["paths"] if path.startswith("/cases")}
    assert len(case_paths) == 10
    assert {path for path, _ in found.protected} == case_paths
    for path, method, operation in operations(document):
        if path.startswith("/cases"):
            for status, response in operation["responses"].items():
                if status >= "400":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
            assert {"404", "409", "422"} <= set(operation["responses"]) or method == "get", (method, path)
    assert set(document["paths"]["/cases/{referral_id}/handover"]["post"]["responses"]) >= {"202", "409", "422"}
