"""The fake BaRS receiver: the headers it insists on, 409 duplicate, what it lists, its faults, and its process."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from signpost_devstack.fake_bars import PROXY_PREFIX, REQUIRED_HEADERS, FakeBars
from signpost_devstack.net import free_port
from support.fhir_examples import fhir_examples

pytestmark = pytest.mark.integration

TARGET = {"value": "2000072489", "system": "https://fhir.nhs.uk/Id/dos-service-id"}


def _b64(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def _headers(**overrides: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/fhir+json",
        "NHSD-Target-Identifier": _b64(TARGET),
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
        "NHSD-End-User-Organisation": _b64({"resourceType": "Organization", "name": "Signpost"}),
        "NHSD-Requesting-Software": _b64({"resourceType": "Device"}),
    }
    headers.update(overrides)
    return headers


def _response_message() -> bytes:
    [path] = fhir_examples("bars-messages").glob("REFRESP03-*.json")
    return path.read_bytes()


@pytest.fixture
async def bars() -> AsyncIterator[FakeBars]:
    async with FakeBars() as running:
        yield running


@pytest.fixture
async def api(bars: FakeBars) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bars.base_url) as client:
        yield client


async def test_a_response_message_is_taken_recorded_and_listed_with_its_decoded_target(bars, api):
    headers = _headers()
    answer = await api.post("/$process-message", content=_response_message(), headers=headers)
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == headers["X-Request-ID"]
    assert answer.headers["X-Correlation-ID"] == headers["X-Correlation-ID"]
    assert answer.json()["entry"][0]["resource"]["response"]["code"] == "ok"
    [listed] = (await api.get("/messages")).json()
    assert listed["request_id"] == headers["X-Request-ID"]
    assert listed["correlation_id"] == headers["X-Correlation-ID"]
    assert listed["target"] == "https://fhir.nhs.uk/Id/dos-service-id|2000072489"
    assert listed["headers"]["NHSD-End-User-Organisation"] == headers["NHSD-End-User-Organisation"]
    assert listed["bundle"]["entry"][0]["resource"]["eventCoding"]["code"] == "servicerequest-response"
    assert listed["received_at"]


async def test_the_proxy_path_is_served_too(bars, api):
    answer = await api.post(f"{PROXY_PREFIX}/$process-message", content=_response_message(), headers=_headers())
    assert answer.status_code == 200
    assert len(bars.messages) == 1


@pytest.mark.parametrize("missing", REQUIRED_HEADERS)
async def test_a_missing_bars_header_is_a_400_operation_outcome_naming_it(bars, api, missing):
    headers = _headers()
    del headers[missing]
    answer = await api.post("/$process-message", content=_response_message(), headers=headers)
    assert answer.status_code == 400
    [issue] = answer.json()["issue"]
    assert issue["code"] == "required"
    assert issue["details"]["coding"][0]["code"] == "REC_BAD_REQUEST"
    assert missing in issue["diagnostics"]
    assert issue["expression"] == [missing]
    assert bars.messages == []


async def test_a_target_identifier_that_is_not_base64_json_is_refused_as_the_proxy_does(bars, api):
    answer = await api.post(
        "/$process-message", content=_response_message(), headers=_headers(**{"NHSD-Target-Identifier": "dos|123"})
    )
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "PROXY_BAD_REQUEST"


async def test_a_message_that_is_not_a_servicerequest_response_is_422(bars, api):
    [request] = fhir_examples("bars-messages").glob("REFREQ07-*.json")
    answer = await api.post("/$process-message", content=request.read_bytes(), headers=_headers())
    assert answer.status_code == 422
    assert "servicerequest-response" in answer.json()["issue"][0]["diagnostics"]
    answer = await api.post("/$process-message", content=b'{"resourceType": "Patient"}', headers=_headers())
    assert answer.status_code == 422
    assert bars.messages == []


async def test_a_repeated_request_id_is_409_duplicate_and_recorded_once(bars, api):
    headers = _headers()
    assert (await api.post("/$process-message", content=_response_message(), headers=headers)).status_code == 200
    again = await api.post("/$process-message", content=_response_message(), headers=headers)
    assert again.status_code == 409
    assert again.json()["issue"][0]["code"] == "duplicate"
    assert again.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_CONFLICT"
    assert len(bars.messages) == 1


async def test_listing_filters_by_correlation_and_target_and_delete_forgets_everything(bars, api):
    first, second = _headers(), _headers(**{"NHSD-Target-Identifier": _b64({"value": "9", "system": "s"})})
    for headers in (first, second):
        await api.post("/$process-message", content=_response_message(), headers=headers)
    by_conversation = (await api.get("/messages", params={"correlation_id": first["X-Correlation-ID"]})).json()
    assert [m["request_id"] for m in by_conversation] == [first["X-Request-ID"]]
    assert [m["request_id"] for m in (await api.get("/messages", params={"target": "s|9"})).json()] == [
        second["X-Request-ID"]
    ]
    assert [m["request_id"] for m in (await api.get("/messages")).json()] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
    ]
    assert (await api.delete("/messages")).json() == {"deleted": 2}
    assert (await api.get("/messages")).json() == []
    # forgotten too: the same request id is now a new message
    assert (await api.post("/$process-message", content=_response_message(), headers=first)).status_code == 200


async def test_armed_faults_refuse_the_next_messages_with_bars_outcomes_without_recording_them(bars, api):
    armed = await api.post("/faults", json={"fail_next": 2, "status": 429})
    assert armed.json()["fail_next"] == 2
    headers = _headers()
    for _ in range(2):
        refused = await api.post("/$process-message", content=_response_message(), headers=headers)
        assert refused.status_code == 429
        assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_TOO_MANY_REQUESTS"
    # a refused message was not processed, so its retry is not a duplicate
    assert (await api.post("/$process-message", content=_response_message(), headers=headers)).status_code == 200
    faults = (await api.get("/faults")).json()
    assert faults["rejected"] == 2
    assert faults["fail_next"] == 0
    assert len(bars.messages) == 1


async def test_an_unknown_fault_status_is_refused(api):
    assert (await api.post("/faults", json={"fail_next": 1, "status": 418})).status_code == 422


async def test_a_delay_answers_late_but_records_at_once_until_cleared(bars, api):
    await api.post("/faults", json={"delay_seconds": 0.5})
    started = time.monotonic()
    answer = await api.post("/$process-message", content=_response_message(), headers=_headers())
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.5
    assert (await api.delete("/faults")).json()["delay_seconds"] == 0
    started = time.monotonic()
    await api.post("/$process-message", content=_response_message(), headers=_headers())
    assert time.monotonic() - started < 0.5
    assert len(bars.messages) == 2


async def test_a_fake_given_a_token_wants_it_as_a_bearer_and_redacts_it_in_the_listing():
    async with FakeBars(token="s3cret") as bars, httpx.AsyncClient(base_url=bars.base_url) as api:
        refused = await api.post("/$process-message", content=_response_message(), headers=_headers())
        assert refused.status_code == 401
        taken = await api.post(
            "/$process-message", content=_response_message(), headers=_headers(Authorization="Bearer s3cret")
        )
        assert taken.status_code == 200
        [listed] = (await api.get("/messages")).json()
        assert "s3cret" not in json.dumps(listed)


async def test_the_console_script_serves_on_the_port_it_is_given_until_sigterm():
    port = free_port()
    script = str(Path(sys.executable).with_name("signpost-fake-bars"))
    process = await asyncio.create_subprocess_exec(script, "--http-port", str(port), stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        assert f"http://127.0.0.1:{port}/$process-message" in banner.decode()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            assert (await api.get("/health")).json() == {"status": "ok"}
            taken = await api.post("/$process-message", content=_response_message(), headers=_headers())
            assert taken.status_code == 200
            assert len((await api.get("/messages")).json()) == 1
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_an_in_process_fake_frees_its_port_when_stopped():
    async with FakeBars() as running:
        base_url = running.base_url
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as api:
        with pytest.raises(httpx.ConnectError):
            await api.get("/health")
