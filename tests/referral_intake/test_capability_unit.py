"""GET /fhir/metadata describes exactly what the endpoint does, as a valid R4 CapabilityStatement."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from referral_intake.adapters.capability import capability_statement
from referral_intake.adapters.fhir_search import SERVICE_REQUEST_PARAMETERS, TASK_PARAMETERS

pytestmark = pytest.mark.unit


def test_the_capability_statement_is_valid_r4_and_lists_what_is_supported():
    statement = capability_statement("http://intake.example", "0.1.0")
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert set(statement["format"]) == {"application/fhir+json", "json"}
    [rest] = statement["rest"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert [i["code"] for i in resources["ServiceRequest"]["interaction"]] == [
        "create", "read", "update", "patch", "search-type"
    ]  # fmt: skip
    assert resources["ServiceRequest"]["conditionalCreate"] is True
    assert [i["code"] for i in resources["Task"]["interaction"]] == ["read", "search-type"]
    assert "X-Request-ID" in resources["ServiceRequest"]["documentation"]
    assert rest["security"]["service"][0]["coding"][0]["code"] == "OAuth"
    assert "referrals:write" in rest["security"]["description"]
    assert statement["implementation"]["url"] == "http://intake.example/fhir"
    assert [o["name"] for o in rest["operation"]] == ["process-message"]
    [messaging] = statement["messaging"]
    assert messaging["endpoint"][0]["address"] == "http://intake.example/fhir/$process-message"
    assert [m["mode"] for m in messaging["supportedMessage"]] == ["receiver"]


def test_versioning_is_declared_as_each_resource_carries_it():
    resources = {r["type"]: r for r in capability_statement("http://intake.example", "0.1.0")["rest"][0]["resource"]}
    # Stored ServiceRequests carry meta.versionId and an ETag, and updates honour If-Match; Tasks are derived on
    # read and carry none.
    assert resources["ServiceRequest"]["versioning"] == "versioned-update"
    assert "If-Match" in resources["ServiceRequest"]["documentation"]
    assert resources["Task"]["versioning"] == "no-version"


def test_the_search_parameters_declared_are_exactly_those_the_searches_take():
    resources = {r["type"]: r for r in capability_statement("http://intake.example", "0.1.0")["rest"][0]["resource"]}
    declared = {
        kind: [(p["name"], p["type"], p["definition"]) for p in resources[kind]["searchParam"]]
        for kind in ("ServiceRequest", "Task")
    }
    assert declared == {
        "ServiceRequest": [("identifier", "token", "http://hl7.org/fhir/SearchParameter/clinical-identifier")],
        "Task": [
            ("focus", "reference", "http://hl7.org/fhir/SearchParameter/Task-focus"),
            ("owner", "reference", "http://hl7.org/fhir/SearchParameter/Task-owner"),
            ("status", "token", "http://hl7.org/fhir/SearchParameter/Task-status"),
            ("_lastUpdated", "date", "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated"),
        ],
    }
    # What the routes take, beside paging (_count, _cursor) and the :identifier modifier on owner.
    taken = {"ServiceRequest": SERVICE_REQUEST_PARAMETERS, "Task": TASK_PARAMETERS}
    for kind, parameters in declared.items():
        searched = {name.partition(":")[0] for name in taken[kind]} - {"_count", "_cursor"}
        assert searched == {name for name, _, _ in parameters}, kind
