"""What the FHIR fuzzer (tests/fuzz) found: each is a 400 naming the element now, never a 500.

fhir.resources reads a string given for a complex element as JSON text. Text that is not a JSON
object made the library raise AttributeError inside validation (`{"_status": "null"}`); text that
is one passed, and the mapping then met a string where it reads an object (`"subject":
"{\\"reference\\": \\"#patient\\"}"`). Both escaped as 500s.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.adapters.outcome import FhirError
from signpost_devstack.synthetic import gp_referral

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)


def _patient(resource: dict[str, Any]) -> dict[str, Any]:
    return resource["contained"][0]


STRINGS_FOR_OBJECTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a primitive's extensions as the text null": (
        lambda r: r.update(_status="null"), "ServiceRequest.status"),
    "a primitive's extensions as JSON text": (
        lambda r: r.update(_status='{"id": "s"}'), "ServiceRequest.status"),
    "a repeating primitive's extensions as text": (
        lambda r: r.update(_instantiatesUri=[None, "[]"]), "ServiceRequest.instantiatesUri[1]"),
    "the subject as JSON text": (
        lambda r: r.update(subject='{"reference": "#patient"}'), "ServiceRequest.subject"),
    "the requester as JSON text": (
        lambda r: r.update(requester='{"reference": "#practice"}'), "ServiceRequest.requester"),
    "an identifier as JSON text": (
        lambda r: r.update(identifier=['{"system": "https://x.example", "value": "1"}']),
        "ServiceRequest.identifier[0]"),
    "meta as JSON text": (lambda r: r.update(meta='{"profile": ["x"]}'), "ServiceRequest.meta"),
    "a coding as JSON text": (
        lambda r: r["code"].update(coding=['{"system": "http://snomed.info/sct"}']), "ServiceRequest.code.coding[0]"),
    "a contained Patient's address as JSON text": (
        lambda r: _patient(r).update(address=['{"postalCode": "LS6 2AB"}']),
        "ServiceRequest.contained[0].address[0]"),
    "a contained Patient's birthDate extensions as text": (
        lambda r: _patient(r).update(_birthDate="1"), "ServiceRequest.contained[0].birthDate"),
    "an extension's valueReference as JSON text": (
        lambda r: _patient(r).setdefault("extension", []).append({"url": "https://x.example", "valueReference": "{}"}),
        "ServiceRequest.contained[0].extension[0].valueReference"),
}  # fmt: skip


def _referral() -> dict[str, Any]:
    resource = gp_referral(rng=random.Random(4), today=TODAY)
    _patient(resource).pop("extension", None)
    return resource


@pytest.mark.parametrize("name", STRINGS_FOR_OBJECTS)
def test_a_complex_element_sent_as_a_string_is_a_400_naming_it(name):
    change, expression = STRINGS_FOR_OBJECTS[name]
    resource = _referral()
    change(resource)
    with pytest.raises(FhirError) as caught:
        submission_from_body(json.dumps(resource).encode(), max_depth=64, today=TODAY)
    assert caught.value.status == 400
    [issue] = caught.value.issues
    assert (issue.code, issue.expression) == ("structure", expression)
    assert "must be a JSON object, not the string" in issue.diagnostics


def test_json_text_in_an_element_that_is_a_string_is_taken_as_the_text_it_is():
    resource = _referral()
    resource["note"] = [{"text": '{"reference": "#patient"}'}]
    submission = submission_from_body(json.dumps(resource).encode(), max_depth=64, today=TODAY)
    assert submission.resource["note"] == [{"text": '{"reference": "#patient"}'}]
