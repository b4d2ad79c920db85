"""What the FHIR fuzzer found, through the real app: a 400 OperationOutcome, and nothing stored or published."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("element", "value"),
    [("_status", "null"), ("subject", '{"reference": "#patient"}'), ("requester", '{"reference": "#practice"}')],
)
async def test_a_complex_element_sent_as_json_text_is_refused_and_nothing_is_stored(intake, make, element, value):
    referral = make.referral()
    referral[element] = value
    response = await intake.post(referral)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    [issue] = response.json()["issue"]
    assert issue["expression"] == [f"ServiceRequest.{element.lstrip('_')}"]
    for table in ("referrals", "referral_identifiers", "outbox"):
        assert await intake.count(table) == 0, table
