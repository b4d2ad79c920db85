"""Content negotiation: JSON is all this endpoint speaks, so a client that will not take JSON gets 406."""

from __future__ import annotations

import pytest

from support.auth import bearer

pytestmark = pytest.mark.integration

READER = bearer("referrals:read", ods="B82005")
NOT_JSON = [
    ({"Accept": "application/fhir+xml"}, None),
    ({"Accept": "application/xml, text/xml;q=0.5"}, None),
    ({"Accept": "application/fhir+json;q=0, application/fhir+xml"}, None),
    ({"Accept": "application/fhir+json; fhirVersion=3.0"}, None),
    ({}, {"_format": "xml"}),
    ({"Accept": "application/fhir+json"}, {"_format": "application/fhir+xml"}),
]
JSON = [
    ({}, None),
    ({"Accept": "application/fhir+json"}, None),
    ({"Accept": "application/json"}, None),
    ({"Accept": "*/*"}, None),
    ({"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, None),
    ({"Accept": "application/fhir+json; fhirVersion=4.0"}, None),
    ({}, {"_format": "json"}),
    ({}, {"_format": "application/fhir+json"}),
    ({"Accept": "application/fhir+xml"}, {"_format": "json"}),  # _format overrides Accept
]


async def test_a_client_that_will_not_take_json_gets_406_everywhere_and_nothing_is_stored(intake, make):
    for headers, params in NOT_JSON:
        answers = [
            await intake.client.get("/fhir/metadata", headers=headers, params=params),
            await intake.client.get(
                "/fhir/Task", params={"focus": "ServiceRequest/x", **(params or {})}, headers={**READER, **headers}
            ),
            await intake.client.post(
                "/fhir/ServiceRequest",
                params=params,
                json=make.referral(),
                headers={**bearer("referrals:write"), "Content-Type": "application/fhir+json", **headers},
            ),
        ]
        for answer in answers:
            assert answer.status_code == 406, (headers, params, answer.request.url, answer.text)
            assert answer.headers["content-type"].startswith("application/fhir+json")
            [issue] = answer.json()["issue"]
            assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("processing", "REC_NOT_ACCEPTABLE")
            assert "application/fhir+json" in issue["diagnostics"]
    assert await intake.count("referrals") == 0
    assert await intake.count("outbox") == 0


async def test_json_asked_for_in_any_usual_way_or_not_at_all_is_served(intake, make):
    for headers, params in JSON:
        metadata = await intake.client.get("/fhir/metadata", headers=headers, params=params)
        assert metadata.status_code == 200, (headers, params, metadata.text)
        assert metadata.json()["resourceType"] == "CapabilityStatement"
    created = await intake.post(make.referral(), headers={"Accept": "application/fhir+json"})
    assert created.status_code == 201


async def test_an_unencoded_plus_in_format_is_read_as_the_fhir_json_media_type(intake):
    response = await intake.client.get("/fhir/metadata?_format=application/fhir+json")
    assert response.status_code == 200, response.text
