"""The BaRS channel sending to the fake BaRS receiver over real HTTP: headers, retries as duplicates, every answer."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from notifications.adapters.bars import BarsSender, request_id
from notifications.adapters.bars_reply import BarsReply, SignpostIdentity, as_json, servicerequest_response
from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import BARS, OutgoingMessage, Sent
from signpost_devstack.fake_bars import PROXY_PREFIX, FakeBars

pytestmark = pytest.mark.integration

REFERRER_ENDPOINT = "https://fhir.nhs.uk/Id/dos-service-id|2000072489"
TOKEN = "bars-access-token"


def _message(recipient: str = REFERRER_ENDPOINT, key: str | None = None) -> OutgoingMessage:
    referral_id, correlation_id = f"ref-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    reply = BarsReply(
        status="accepted",
        referral_id=referral_id,
        request_message_id=str(uuid.uuid4()),
        source_endpoint=recipient,
        correlation_id=correlation_id,
        at=datetime(2025, 3, 4, 10, 30, tzinfo=UTC),
        signpost=SignpostIdentity("Leeds community connectors", "https://fhir.nhs.uk/Id/dos-service-id|2000099999"),
        sender_ods="B86010",
    )
    key = key or f"bars:{uuid.uuid4()}"
    bundle = servicerequest_response(reply, message_id=str(uuid.uuid4()), now=datetime.now(UTC))
    return OutgoingMessage(
        channel=BARS,
        recipient=recipient,
        subject="",
        text=as_json(bundle),
        message_id="",
        idempotency_key=key,
        referral_id=referral_id,
        correlation_id=correlation_id,
    )


def _decoded(header: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(base64.b64decode(header))
    return data


@pytest.fixture
async def bars() -> AsyncIterator[FakeBars]:
    async with FakeBars(token=TOKEN) as running:
        yield running


@pytest.fixture
async def sender(bars: FakeBars) -> AsyncIterator[BarsSender]:
    sending = BarsSender(
        f"{bars.base_url}{PROXY_PREFIX}",
        organisation_ods="X26",
        organisation_name="Leeds community connectors",
        token=SecretStr(TOKEN),
        timeout_seconds=2,
    )
    yield sending
    await sending.aclose()


async def test_a_reply_reaches_the_target_the_referrer_named_with_every_bars_header(bars, sender):
    message = _message()
    sent = await sender.send(message)

    assert sent == Sent(provider_reference=request_id(message.idempotency_key), confirmed=True)
    [received] = bars.messages
    assert received.target == REFERRER_ENDPOINT
    assert _decoded(received.headers["NHSD-Target-Identifier"]) == {
        "value": "2000072489",
        "system": "https://fhir.nhs.uk/Id/dos-service-id",
    }
    assert received.request_id == str(uuid.UUID(received.request_id))
    assert received.request_id == request_id(message.idempotency_key)
    assert received.correlation_id == message.correlation_id
    organisation = _decoded(received.headers["NHSD-End-User-Organisation"])
    assert organisation["identifier"] == [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X26"}]
    assert _decoded(received.headers["NHSD-Requesting-Software"])["resourceType"] == "Device"
    assert received.headers["Content-Type"] == "application/fhir+json"
    assert received.headers["Accept"].startswith("application/fhir+json; version=")
    assert received.bundle == json.loads(message.text)


async def test_a_retry_of_the_same_delivery_is_the_same_request_and_its_409_duplicate_counts_as_delivered(bars, sender):
    message = _message()
    await sender.send(message)
    again = await sender.send(message)
    assert again.confirmed is True
    assert len(bars.messages) == 1


async def test_two_deliveries_are_two_requests():
    assert request_id("bars:evt-1") != request_id("bars:evt-2")
    assert request_id("bars:evt-1") == request_id("bars:evt-1")


async def test_our_token_refused_is_an_outage_naming_the_credential(bars):
    sending = BarsSender(bars.base_url, organisation_ods="X26", organisation_name="Signpost", token=SecretStr("old"))
    try:
        with pytest.raises(ProviderUnavailableError, match="access token"):
            await sending.send(_message())
    finally:
        await sending.aclose()
    assert bars.messages == []


@pytest.mark.parametrize("status", [401, 403])
async def test_a_credential_refusal_from_the_receiver_is_an_outage(bars, sender, status):
    bars.fail_next(1, status=status)
    with pytest.raises(ProviderUnavailableError, match=f"HTTP {status}.*access token"):
        await sender.send(_message())


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_a_receiver_that_cannot_take_messages_now_is_an_outage_and_the_retry_goes_through(bars, sender, status):
    message = _message()
    bars.fail_next(1, status=status)
    with pytest.raises(ProviderUnavailableError, match=f"HTTP {status}"):
        await sender.send(message)
    assert (await sender.send(message)).confirmed is True
    assert len(bars.messages) == 1


@pytest.mark.parametrize(
    ("status", "said"),
    [(400, "REC_BAD_REQUEST"), (404, "target service is unknown"), (409, "conflict"), (422, "not-supported")],
)
async def test_a_refusal_of_the_message_is_permanent_and_says_what_the_receiver_said(bars, sender, status, said):
    bars.fail_next(1, status=status, diagnostics="the receiver's reason, in its words")
    with pytest.raises(SendError, match=said) as refused:
        await sender.send(_message())
    assert refused.value.permanent is True
    assert "the receiver's reason, in its words" in str(refused.value)


async def test_the_receivers_diagnostics_are_bounded(bars, sender):
    bars.fail_next(1, status=422, diagnostics="x" * 1000)
    with pytest.raises(SendError) as refused:
        await sender.send(_message())
    assert len(str(refused.value)) < 600


async def test_too_early_is_an_attempt_to_repeat_later(bars, sender):
    bars.fail_next(1, status=425)
    with pytest.raises(SendError) as refused:
        await sender.send(_message())
    assert refused.value.permanent is False


async def test_an_answer_without_an_operation_outcome_is_something_in_the_way_not_a_refusal(bars):
    sending = BarsSender(f"{bars.base_url}/not-the-proxy", organisation_ods="X26", organisation_name="Signpost")
    try:
        with pytest.raises(ProviderUnavailableError, match="HTTP 404 without a BaRS OperationOutcome"):
            await sending.send(_message())
    finally:
        await sending.aclose()


async def test_a_late_answer_is_an_attempt_whose_retry_is_a_duplicate_and_so_delivered(bars, sender):
    message = _message()
    bars.faults.delay_seconds = 3  # beyond the sender's 2 seconds
    with pytest.raises(SendError, match="no answer after sending") as timed_out:
        await sender.send(message)
    assert timed_out.value.permanent is False
    assert len(bars.messages) == 1  # it had been taken
    bars.faults.delay_seconds = 0
    assert (await sender.send(message)).confirmed is True
    assert len(bars.messages) == 1


async def test_a_proxy_out_of_reach_is_an_outage():
    async with FakeBars() as stopped:
        base_url = stopped.base_url
    sending = BarsSender(base_url, organisation_ods="X26", organisation_name="Signpost")
    try:
        with pytest.raises(ProviderUnavailableError, match="could not connect"):
            await sending.send(_message())
    finally:
        await sending.aclose()


async def test_a_recorded_endpoint_that_is_not_system_bar_value_is_refused_before_sending(bars, sender):
    with pytest.raises(SendError, match=re.escape("not 'system|value'")) as refused:
        await sender.send(_message(recipient="https://gp.example.nhs.uk/fhir"))
    assert refused.value.permanent is True
    assert bars.messages == []
