"""Reading an Accept header: which ranges take FHIR R4 JSON."""

from __future__ import annotations

import pytest

from referral_intake.adapters.fhir_negotiation import accepts_fhir_json

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json",
        "application/json",
        "application/json+fhir",
        "APPLICATION/FHIR+JSON",
        "*/*",
        "application/*",
        "application/fhir+xml;q=1, application/fhir+json;q=0.1",
        'application/fhir+json; charset=utf-8; fhirVersion="4.0"',
        "application/fhir+json; fhirVersion=4.0.1",
    ],
)
def test_these_take_fhir_json(accept):
    assert accepts_fhir_json(accept)


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+xml",
        "text/html",
        "application/fhir+json;q=0",
        "application/fhir+json;q=nonsense",
        "application/fhir+json; fhirVersion=5.0",
        "text/*",
        "",
    ],
)
def test_these_do_not(accept):
    assert not accepts_fhir_json(accept)
