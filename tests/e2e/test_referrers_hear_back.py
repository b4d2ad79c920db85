"""Referrers hear back the way they work, on the stack of `make run` (services as processes, the fake BaRS
receiver, the SMTP sink): a BaRS referral's acceptance reaches its sender as a servicerequest-response naming
the request, by BaRS and not also by email."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from signpost_devstack.stack import LocalStack
from support.bars import PROCESS_MESSAGE, REQUESTER_ODS, social_prescribing_message

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def _responses(client: httpx.AsyncClient, stack: LocalStack, correlation_id: str, timeout: float = 45) -> list:
    deadline = time.monotonic() + timeout
    while True:
        answer = await client.get(f"{stack.bars_url}/messages", params={"correlation_id": correlation_id})
        answer.raise_for_status()
        if answer.json():
            return list(answer.json())
        assert time.monotonic() < deadline, f"no servicerequest-response in {timeout}s for {correlation_id}"
        await asyncio.sleep(0.3)


def _resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind)


async def test_a_bars_referrals_acceptance_reaches_its_sender_by_bars_naming_the_request(stack: LocalStack):
    message = social_prescribing_message()
    correlation_id = str(uuid.uuid4())
    token = stack.token(scopes=["referrals:write", "referrals:read"], ods_code=REQUESTER_ODS)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/fhir+json",
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": correlation_id,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        sent = await client.post(f"{stack.url('referral_intake')}{PROCESS_MESSAGE}", json=message, headers=headers)
        assert sent.status_code == 200, sent.text
        referral_id = _resource(sent.json(), "ServiceRequest")["id"]

        [response] = await _responses(client, stack, correlation_id)

        header = _resource(response["bundle"], "MessageHeader")
        assert header["eventCoding"]["code"] == "servicerequest-response"
        assert header["response"]["identifier"] == message["id"], "names the request the sender knows"
        source = _resource(message, "MessageHeader")["source"]["endpoint"]
        assert header["destination"][0]["endpoint"] == source
        assert response["target"] == source
        service_request = _resource(response["bundle"], "ServiceRequest")
        assert service_request["id"] == referral_id
        assert service_request["status"] == "active", "accepted: assigned or waiting for a connector"

        await asyncio.sleep(1.0)  # anything sent on another channel as well would have arrived by now
        emails = (await client.get(f"{stack.sink_url}/messages")).json()
        assert not [email for email in emails if referral_id in email["text"]], "answered by BaRS, not also by email"
        again = (await client.get(f"{stack.bars_url}/messages", params={"correlation_id": correlation_id})).json()
        assert len(again) == 1
