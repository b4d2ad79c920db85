"""GET /fhir/metadata describes exactly what the endpoint does, as a valid R4 CapabilityStatement."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from referral_intake.adapters.capability import capability_statement

pytestmark = pytest.mark.unit


def test_the_capability_statement_is_valid_r4_and_lists_what_is_supported():
    statement = capability_statement("http://intake.example", "0.1.0")
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert set(statement["format"]) == {"application/fhir+json", "json"}
    [rest] = statement["rest"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert [i["code"] for i in resources["ServiceRequest"]["interaction"]] == ["create", "read", "update", "patch"]
    assert [i["code"] for i in resources["Task"]["interaction"]] == ["read", "search-type"]
    assert [(p["name"], p["type"]) for p in resources["Task"]["searchParam"]] == [("focus", "reference")]
    assert "X-Request-ID" in resources["ServiceRequest"]["documentation"]
    assert rest["security"]["service"][0]["coding"][0]["code"] == "OAuth"
    assert "referrals:write" in rest["security"]["description"]
    assert statement["implementation"]["url"] == "http://intake.example/fhir"


def test_versioning_is_declared_as_each_resource_carries_it():
    resources = {r["type"]: r for r in capability_statement("http://intake.example", "0.1.0")["rest"][0]["resource"]}
    # Stored ServiceRequests carry meta.versionId and an ETag, and updates honour If-Match; Tasks are derived on
    # read and carry none.
    assert resources["ServiceRequest"]["versioning"] == "versioned-update"
    assert "If-Match" in resources["ServiceRequest"]["documentation"]
    assert resources["Task"]["versioning"] == "no-version"
