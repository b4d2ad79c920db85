"""Every kind of bad input gets an OperationOutcome naming the element, what was expected and what to do."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from referral_intake.adapters.fhir_body import check_media_type
from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.adapters.fhir_validation import fhirpath, validate_service_request
from referral_intake.adapters.outcome import HTTP_ERROR_CODES, FhirError, Issue, operation_outcome
from signpost_devstack.synthetic import gp_referral

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)
Change = Callable[[dict[str, Any]], Any]


def _pipeline(body: bytes) -> None:
    submission_from_body(body, max_depth=64, today=TODAY)


def _rejection(body: bytes) -> FhirError:
    with pytest.raises(FhirError) as caught:
        _pipeline(body)
    return caught.value


def _changed(change: Change) -> bytes:
    resource = gp_referral(rng=random.Random(1), today=TODAY)
    change(resource)
    return json.dumps(resource).encode()


def _patient(resource: dict[str, Any]) -> dict[str, Any]:
    return resource["contained"][0]


def _set(path: str, value: Any) -> Change:
    def change(resource: dict[str, Any]) -> None:
        resource[path] = value

    return change


def _nest(depth: int) -> bytes:
    return ('{"resourceType": "ServiceRequest", "x": ' + "[" * depth + "]" * depth + "}").encode()


RAW_CASES = {
    "malformed JSON": (b'{"resourceType": "ServiceRequest",', 400, "invalid", None, "not valid JSON"),
    "empty body": (b"  ", 400, "required", None, "body is empty"),
    "a JSON array": (b"[1, 2]", 400, "structure", None, "must be a JSON object"),
    "not UTF-8": (b'{"resourceType": "ServiceRequest", "note": "\xff"}', 400, "invalid", None, "not UTF-8"),
    "NaN": (b'{"resourceType": "ServiceRequest", "x": NaN}', 400, "invalid", None, "NaN is not allowed"),
    "nested too deep": (_nest(100), 400, "structure", None, "more than 64 levels"),
    "nested past the parser": (_nest(100_000), 400, "structure", None, "more than 64 levels"),
    "a Patient": (b'{"resourceType": "Patient"}', 400, "invalid", "resourceType", "takes a FHIR R4 ServiceRequest"),
    "a NUL in a note": (
        b'{"resourceType": "ServiceRequest", "note": [{"text": "lives alone\\u0000"}]}',
        400, "invalid", "ServiceRequest.note[0].text", "\\u0000 at position 11, a NUL character",
    ),
    "a NUL in a property name": (
        b'{"resourceType": "ServiceRequest", "_status": {"id\\u0000": "x"}}',
        400, "invalid", 'ServiceRequest.status["id\\u0000"]', "property name contains \\u0000",
    ),
    "half a surrogate pair": (
        b'{"resourceType": "ServiceRequest", "contained": [{"name": [{"given": ["Jo \\ud83d"]}]}]}',
        400, "invalid", "ServiceRequest.contained[0].name[0].given[0]", "half of a UTF-16 surrogate pair",
    ),
}  # fmt: skip

CASES: dict[str, tuple[Change, int, str, str, str]] = {
    "status missing": (lambda r: r.pop("status"), 400, "required", "ServiceRequest.status", "required"),
    "status not a FHIR code": (_set("status", "open"), 400, "code-invalid", "ServiceRequest.status", "use one of"),
    "status draft": (_set("status", "draft"), 422, "business-rule", "ServiceRequest.status", "must be 'active'"),
    "priority not a FHIR code": (_set("priority", "high"), 400, "code-invalid", "ServiceRequest.priority", "routine"),
    "an R5 element": (_set("reason", []), 400, "structure", "ServiceRequest.reason", "not an element of FHIR R4"),
    "reasonCode not an array": (
        _set("reasonCode", {"text": "lonely"}), 400, "structure", "ServiceRequest.reasonCode", "JSON array"
    ),
    "two occurrence[x]": (
        lambda r: r.update(occurrenceDateTime="2025-06-01", occurrencePeriod={"start": "2025-06-01"}),
        400, "structure", "ServiceRequest", "only one of occurrenceDateTime",
    ),
    "birth date in the wrong format": (
        lambda r: _patient(r).update(birthDate="31/07/1950"),
        400, "value", "ServiceRequest.contained[0].birthDate", "YYYY-MM-DD",
    ),
    "birth date in the future": (
        lambda r: _patient(r).update(birthDate="2031-01-01"),
        400, "value", "ServiceRequest.contained[0].birthDate", "in the future",
    ),
    "unknown contained type": (
        lambda r: r["contained"].append({"resourceType": "Wizard", "id": "w"}),
        400, "invalid", "ServiceRequest.contained[2]", "not a FHIR R4 resource type",
    ),
    "a contained abstract Resource": (
        lambda r: r["contained"].append({"resourceType": "Resource", "id": "r"}),
        400, "invalid", "ServiceRequest.contained[2]", "cannot be contained",
    ),
    "a contained Parameters": (
        lambda r: r["contained"].append({"resourceType": "Parameters", "id": "p"}),
        400, "invalid", "ServiceRequest.contained[2]", "cannot be contained",
    ),
    "two contained resources with one id": (
        lambda r: r["contained"].append({**r["contained"][0], "birthDate": "1931-01-01"}),
        400, "invariant", "ServiceRequest.contained[2].id", "also the id of contained[0]",
    ),
    "a contained resource containing another": (
        lambda r: r["contained"][1].update(contained=[{"resourceType": "Patient", "id": "inner"}]),
        400, "invariant", "ServiceRequest.contained[1]", "dom-2",
    ),
    "a whitespace-only identifier": (
        _set("identifier", [{"system": "https://b82005.example.nhs.uk/Id/referral", "value": "   "}]),
        400, "value", "ServiceRequest.identifier[0]", "is blank",
    ),
    "an identifier too long to be a reference": (
        _set("identifier", [{"system": "https://b82005.example.nhs.uk/Id/referral", "value": "9" * 5000}]),
        400, "too-long", "ServiceRequest.identifier[0].value", "at most 256 characters",
    ),
    "an identifier system too long for the index": (
        _set("identifier", [{"system": "urn:x:" + "\u00e9" * 600, "value": "R-1"}]),
        400, "too-long", "ServiceRequest.identifier[0].system", "at most 1024 bytes",
    ),
    "subject missing": (lambda r: r.pop("subject"), 400, "required", "ServiceRequest.subject", "NHS number"),
    "subject names no contained resource": (
        _set("subject", {"reference": "#nobody"}), 400, "invalid", "ServiceRequest.subject.reference", "contained"
    ),
    "subject on another server": (
        _set("subject", {"reference": "Patient/123"}), 422, "not-supported", "ServiceRequest.subject.reference",
        "cannot resolve",
    ),
    "subject is the practice": (
        _set("subject", {"reference": "#practice"}), 400, "invalid", "ServiceRequest.subject.reference",
        "must be a Patient",
    ),
    "NHS number fails Modulus 11": (
        lambda r: _patient(r)["identifier"][0].update(value="9434765918"),
        400, "value", "ServiceRequest.contained[0].identifier[0].value", "Modulus 11",
    ),
    "NHS number by identifier fails Modulus 11": (
        _set("subject", {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "1234567890"}}),
        400, "value", "ServiceRequest.subject.identifier.value", "Modulus 11",
    ),
    "subject identified by another system": (
        lambda r: r.update(subject={"identifier": {"system": "https://example.org/mrn", "value": "12"}}),
        400, "value", "ServiceRequest.subject.identifier.system", "only by NHS number",
    ),
    "requester missing": (lambda r: r.pop("requester"), 400, "required", "ServiceRequest.requester", "ODS code"),
    "requester without ODS code": (
        lambda r: r["contained"][1].pop("identifier"), 400, "required", "ServiceRequest.contained[1].identifier",
        "no ODS code",
    ),
    "requester is the patient": (
        _set("requester", {"reference": "#patient"}), 400, "invalid", "ServiceRequest.requester.reference",
        "contained Patient",
    ),
    "requester ODS code malformed": (
        lambda r: r["contained"][1]["identifier"][0].update(value="B82 005!"),
        400, "value", "ServiceRequest.contained[1].identifier", "not an ODS code",
    ),
    "a referral for another service": (
        _set("code", {"coding": [{"system": "http://snomed.info/sct", "code": "183524004"}]}),
        422, "not-supported", "ServiceRequest.code", "871731000000106",
    ),
    "an unknown need category": (
        lambda r: r["reasonCode"][0]["coding"][0].update(code="boredom"),
        400, "code-invalid", "ServiceRequest.reasonCode[0].coding[0].code", "loneliness",
    ),
    "no identifier and no X-Request-ID": (
        lambda r: r.pop("identifier"), 400, "required", "ServiceRequest.identifier",
        "cannot be told from a second referral",
    ),
    "an identifier without a value": (
        _set("identifier", [{"system": "https://b82005.example.nhs.uk/Id/referral"}]), 400, "required",
        "ServiceRequest.identifier", "X-Request-ID header",
    ),
    "an unknown risk flag": (
        lambda r: r["reasonCode"].append(
            {"coding": [{"system": "https://signpost.dev/fhir/CodeSystem/risk-flag", "code": "grumpy"}]}
        ),
        400, "code-invalid", "ServiceRequest.reasonCode[2].coding[0].code", "self-harm-risk",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("body", "status", "code", "expression", "hint"), RAW_CASES.values(), ids=RAW_CASES.keys())
def test_unreadable_bodies_are_refused_with_a_reason(body, status, code, expression, hint):
    error = _rejection(body)
    assert error.status == status
    [issue] = error.issues
    assert (issue.code, issue.expression) == (code, expression)
    assert hint in issue.diagnostics


@pytest.mark.parametrize(("change", "status", "code", "expression", "hint"), CASES.values(), ids=CASES.keys())
def test_each_problem_names_the_element_and_what_to_do(change, status, code, expression, hint):
    error = _rejection(_changed(change))
    assert error.status == status
    matching = [issue for issue in error.issues if issue.expression == expression]
    assert matching, f"no issue at {expression}: {[(i.expression, i.diagnostics) for i in error.issues]}"
    assert matching[0].code == code
    assert hint in matching[0].diagnostics


def test_all_problems_are_reported_at_once_and_a_malformed_request_answers_400():
    def break_three_things(resource: dict[str, Any]) -> None:
        resource.pop("requester")
        resource["status"] = "draft"
        _patient(resource)["identifier"][0]["value"] = "9434765918"

    error = _rejection(_changed(break_three_things))
    assert error.status == 400
    assert {issue.expression for issue in error.issues} == {
        "ServiceRequest.requester",
        "ServiceRequest.status",
        "ServiceRequest.contained[0].identifier[0].value",
    }


@pytest.mark.parametrize(
    "content_type",
    ["application/fhir+json", "application/json", "application/fhir+json; charset=utf-8; fhirVersion=4.0"],
)
def test_fhir_json_and_plain_json_are_accepted(content_type):
    check_media_type(content_type)


@pytest.mark.parametrize(
    ("content_type", "hint"),
    [
        (None, "no Content-Type"),
        ("application/fhir+xml", "fhir+xml"),
        ("application/fhir+json; fhirVersion=5.0", "5.0"),
    ],
)
def test_other_media_types_are_refused_with_415(content_type, hint):
    with pytest.raises(FhirError) as caught:
        check_media_type(content_type)
    assert caught.value.status == 415
    assert caught.value.issues[0].code == "not-supported"
    assert hint in caught.value.issues[0].diagnostics


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("contained", 0, "name", 0, "given"), "ServiceRequest.contained[0].name[0].given"),
        (("subject", "root"), "ServiceRequest.subject"),
        (("_authoredOn", "extension", 1, "url"), "ServiceRequest.authoredOn.extension[1].url"),
        ((), "ServiceRequest"),
    ],
)
def test_validation_locations_become_fhirpath(loc, path):
    assert fhirpath(loc) == path


def test_an_operation_outcome_has_the_shape_of_the_bars_examples():
    outcome = operation_outcome([Issue("required", "ServiceRequest.subject is missing", "ServiceRequest.subject")], 400)
    OperationOutcome.model_validate(outcome)
    [issue] = outcome["issue"]
    assert issue["severity"] == "error"
    assert issue["code"] == "required"
    assert issue["details"]["coding"] == [{"system": HTTP_ERROR_CODES, "code": "REC_BAD_REQUEST"}]
    assert issue["expression"] == ["ServiceRequest.subject"]
    assert outcome["id"]


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "REC_UNAUTHORIZED"), (403, "REC_FORBIDDEN"), (404, "REC_NOT_FOUND"), (409, "REC_CONFLICT"),
     (422, "REC_UNPROCESSABLE_ENTITY"), (500, "REC_SERVER_ERROR")],
)  # fmt: skip
def test_http_statuses_map_to_nhs_http_error_codes(status, code):
    outcome = operation_outcome([Issue("processing", "x", status=status)], status)
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == code


def test_the_most_basic_problem_sets_the_status_when_there_are_several():
    assert FhirError([Issue("not-supported", "a", status=422), Issue("required", "b", status=400)]).status == 400
    assert FhirError([Issue("not-supported", "a", status=422)]).status == 422


def test_a_contained_patient_may_carry_another_identifier_beside_it_in_subject():
    def local_id(resource: dict[str, Any]) -> None:
        resource["subject"]["identifier"] = {"system": "https://leedsroad.example/mrn", "value": "A123"}

    data = json.loads(_changed(local_id))
    validate_service_request(data)
    assert read_submission(data, TODAY).nhs_number == data["contained"][0]["identifier"][0]["value"]


def test_thousands_of_problems_are_summarised_not_all_listed():
    def many_bad_needs(resource: dict[str, Any]) -> None:
        bad = {"system": "https://signpost.dev/fhir/CodeSystem/need-category", "code": "nope"}
        resource["reasonCode"] = [{"coding": [bad] * 50} for _ in range(40)]

    error = _rejection(_changed(many_bad_needs))
    assert len(error.issues) == 51
    assert error.issues[-1].severity == "information"
    assert "1950 more problems" in error.issues[-1].diagnostics


def test_a_nul_anywhere_is_refused_naming_each_place_before_anything_else_is_checked():
    resource = gp_referral(rng=random.Random(1), today=TODAY)
    resource["note"] = [{"text": "first line\u0000"}]
    _patient(resource)["name"][0]["family"] = "Smith\u0000"
    error = _rejection(json.dumps(resource).encode())
    assert error.status == 400
    assert [(i.code, i.expression) for i in error.issues] == [
        ("invalid", "ServiceRequest.contained[0].name[0].family"),
        ("invalid", "ServiceRequest.note[0].text"),
    ]


def test_an_emoji_sent_as_a_surrogate_pair_escape_is_a_character_and_is_accepted():
    resource = gp_referral(rng=random.Random(1), today=TODAY)
    resource["note"] = [{"text": "enjoys gardening \U0001f33b"}]
    submission = submission_from_body(json.dumps(resource).encode(), max_depth=64, today=TODAY)
    assert submission.resource["note"][0]["text"].endswith("\U0001f33b")


def test_without_an_identifier_an_x_request_id_is_enough_to_tell_a_retry_from_a_new_referral():
    resource = gp_referral(rng=random.Random(1), today=TODAY)
    del resource["identifier"]
    body = json.dumps(resource).encode()
    with pytest.raises(FhirError):
        submission_from_body(body, max_depth=64, today=TODAY)
    submission = submission_from_body(body, max_depth=64, today=TODAY, request_id_sent=True)
    assert submission.identifiers == ()
