"""Intake's errors match NHS England's BaRS receiver OperationOutcome examples, status by status.

For each status intake answers with that has a published example, a real response is compared
with the example: details.coding system, code and display, and issue.code and severity.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from referral_intake.adapters.outcome import ERROR_CODES
from referral_intake.service import IntakeService
from support.auth import bearer
from support.bars import NHS_MESSAGES, PROCESS_MESSAGE, bars_headers, follow_up, social_prescribing_message
from support.fhir_examples import fhir_examples
from support.services import database_gone

pytestmark = pytest.mark.integration

EXAMPLES = fhir_examples("bars-operation-outcomes")

FHIR_JSON = {"Content-Type": "application/fhir+json"}
WRITER = {**bearer("referrals:write", "referrals:read", ods="B82005"), **FHIR_JSON}
Send = Callable[[Any, Any], Awaitable[httpx.Response]]


def _example(name: str) -> dict[str, Any]:
    path = EXAMPLES / f"{name}.json"
    assert path.is_file(), f"BaRS example {path} is missing: the examples are part of this workspace"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _shape(outcome: dict[str, Any]) -> dict[str, Any]:
    issue = outcome["issue"][0]
    [coding] = issue["details"]["coding"]
    return {
        "severity": issue["severity"],
        "issue.code": issue["code"],
        "system": coding["system"],
        "code": coding["code"],
        "display": coding.get("display"),
    }


async def _no_identifier(intake, make) -> httpx.Response:
    body = make.referral()
    del body["identifier"]
    return await intake.post(body)


async def _nul_character(intake, make) -> httpx.Response:
    body = make.referral()
    body["note"] = [{"text": "lives alone\u0000"}]
    return await intake.post(body)


async def _malformed_request_id(intake, make) -> httpx.Response:
    return await intake.post(make.referral(), headers={"X-Request-ID": "retry-1"})


async def _no_token(intake, make) -> httpx.Response:
    return await intake.client.post("/fhir/ServiceRequest", json=make.referral(), headers=FHIR_JSON)


async def _token_without_organisation(intake, make) -> httpx.Response:
    return await intake.post(make.referral(), headers=bearer("referrals:write", ods=None))


async def _unknown_referral(intake, make) -> httpx.Response:
    return await intake.client.get(f"/fhir/ServiceRequest/{uuid.uuid4()}", headers=WRITER)


async def _xml_only(intake, make) -> httpx.Response:
    return await intake.client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"})


async def _repeated_request_id(intake, make) -> httpx.Response:
    request = {"X-Request-ID": str(uuid.uuid4())}
    body = make.referral()
    assert (await intake.post(body, headers=request)).status_code == 201
    return await intake.post(body, headers=request)


async def _another_service(intake, make) -> httpx.Response:
    body = make.referral()
    body["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": "183524004"}]}
    return await intake.post(body)


async def _bug(intake, make) -> httpx.Response:
    class Broken(IntakeService):
        async def submit(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug in the use case")

    return await _with_service(intake, Broken(), make)


async def _database_gone(intake, make) -> httpx.Response:
    async with database_gone(intake.app.state.runtime):
        return await _post(intake, make)


async def _with_service(intake, service: IntakeService, make) -> httpx.Response:
    working = intake.app.state.intake
    intake.app.state.intake = service
    try:
        return await _post(intake, make)
    finally:
        intake.app.state.intake = working


async def _post(intake, make) -> httpx.Response:
    async with intake.lenient_client() as client:
        return await client.post("/fhir/ServiceRequest", json=make.referral(), headers=WRITER)


CASES: dict[str, Callable[..., Awaitable[httpx.Response]]] = {
    "400-REC_BAD_REQUEST-required": _no_identifier,
    "400-REC_BAD_REQUEST-invalid": _nul_character,
    "400-REC_BAD_REQUEST-value": _malformed_request_id,
    "401-REC_UNAUTHORIZED-forbidden": _no_token,
    "403-REC_FORBIDDEN-forbidden": _token_without_organisation,
    "404-REC_NOT_FOUND-not-found": _unknown_referral,
    "406-REC_NOT_ACCEPTABLE-processing": _xml_only,
    "409-REC_CONFLICT-duplicate": _repeated_request_id,
    "422-REC_UNPROCESSABLE_ENTITY-not-supported": _another_service,
    "500-REC_SERVER_ERROR-exception": _bug,
    "503-REC_SERVICE_UNAVAILABLE-transient": _database_gone,
}


async def _message(intake, body, headers: dict[str, str]) -> httpx.Response:
    return await intake.client.post(PROCESS_MESSAGE, json=body, headers=headers)


async def _message_without_correlation_id(intake, make) -> httpx.Response:
    return await _message(intake, social_prescribing_message(), bars_headers(**{"X-Correlation-ID": None}))


async def _message_sent_twice(intake, make) -> httpx.Response:
    body, headers = social_prescribing_message(), bars_headers()
    assert (await _message(intake, body, headers)).status_code == 200
    return await _message(intake, body, headers)


async def _message_for_another_service(intake, make) -> httpx.Response:
    body = json.loads((NHS_MESSAGES / "REFREQ01-Referral-Service-Request-New-Full-111-to-ED.json").read_text())
    return await _message(intake, body, bars_headers())


async def _update_of_an_unknown_referral(intake, make) -> httpx.Response:
    update = follow_up(social_prescribing_message(), "update", "revoked")
    return await _message(intake, update, bars_headers())


# The same comparison for $process-message, the door BaRS senders use.
BARS_CASES: dict[str, Callable[..., Awaitable[httpx.Response]]] = {
    "400-REC_BAD_REQUEST-required": _message_without_correlation_id,
    "404-REC_NOT_FOUND-not-found": _update_of_an_unknown_referral,
    "409-REC_CONFLICT-duplicate": _message_sent_twice,
    "422-REC_UNPROCESSABLE_ENTITY-not-supported": _message_for_another_service,
}


def test_every_status_intake_answers_with_that_has_a_bars_example_is_compared():
    assert EXAMPLES.is_dir(), f"the BaRS OperationOutcome examples are missing from {EXAMPLES}"
    published = {int(path.name[:3]) for path in EXAMPLES.glob("*.json")}
    compared = {int(name[:3]) for name in CASES}
    assert published >= {400, 401, 403, 404, 406, 409, 422, 500, 503}, published
    assert set(ERROR_CODES) & published <= compared


async def test_each_error_has_the_shape_of_the_bars_example_for_its_status(intake, make):
    for name, send in CASES.items():
        example = _example(name)
        response = await send(intake, make)
        assert response.status_code == int(name[:3]), (name, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json"), name
        assert _shape(response.json()) == _shape(example), name


async def test_each_process_message_error_has_the_shape_of_the_bars_example_for_its_status(intake, make):
    for name, send in BARS_CASES.items():
        response = await send(intake, make)
        assert response.status_code == int(name[:3]), (name, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json"), name
        assert _shape(response.json()) == _shape(_example(name)), name
