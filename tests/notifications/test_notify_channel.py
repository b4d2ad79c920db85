"""The GOV.UK Notify channel: the official client against the fake Notify over real HTTP, no mocks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from notifications.adapters.notify import NotifyEmailSender, NotifyReceipts, NotifySmsSender, receipt_from
from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import OutgoingMessage
from signpost_devstack.fake_notify import FakeNotify, notify_api_key
from signpost_devstack.net import free_port

pytestmark = pytest.mark.integration

EMAIL_TEMPLATE = "0e5e1b8e-7f43-4d7a-9c1b-1f0d3c6a0001"  # the fake's test-only templates
SMS_TEMPLATE = "0e5e1b8e-7f43-4d7a-9c1b-1f0d3c6a0003"
VALUES = {"referrer name": "Dr Okafor", "referral reference": "LRS-42", "outcome": "declined", "has_note": "no"}
RECEIPT_DELAY = 0.05


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify(receipt_delay_seconds=RECEIPT_DELAY) as running:
        yield running


def message(channel: str = "email", recipient: str = "referrals@leedsroad.example.nhs.uk", **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "channel": channel,
        "recipient": recipient,
        "subject": "",
        "text": "",
        "message_id": "<m@signpost.local>",
        "idempotency_key": f"{channel}:{uuid.uuid4()}",
        "referral_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "template": "declined",
        "personalisation": {**VALUES, "note": "We only support people who live in Leeds."},
    }
    return OutgoingMessage(**(fields | overrides))


def email_sender(notify: FakeNotify, key: str | None = None, **overrides: Any) -> NotifyEmailSender:
    arguments: dict[str, Any] = {
        "api_key": SecretStr(key or notify.api_key()),
        "templates": {"declined": EMAIL_TEMPLATE},
        "base_url": notify.base_url,
        "timeout_seconds": 5.0,
    }
    return NotifyEmailSender(**(arguments | overrides))


def sms_sender(notify: FakeNotify, **overrides: Any) -> NotifySmsSender:
    arguments: dict[str, Any] = {
        "api_key": SecretStr(notify.api_key()),
        "templates": {"declined": SMS_TEMPLATE},
        "base_url": notify.base_url,
    }
    return NotifySmsSender(**(arguments | overrides))


def receipts_for(notify: FakeNotify, key: str) -> NotifyReceipts:
    return NotifyReceipts(api_key=SecretStr(key), base_url=notify.base_url, timeout_seconds=5.0)


async def test_an_email_reaches_notify_with_its_template_personalisation_and_the_idempotency_key(notify):
    outgoing = message()
    sent = await email_sender(notify, email_reply_to_id=str(uuid.uuid4())).send(outgoing)
    [received] = notify.notifications
    assert sent.provider_reference == received.id
    assert (received.type, received.to, received.template.id) == ("email", outgoing.recipient, EMAIL_TEMPLATE)
    assert received.personalisation == dict(outgoing.personalisation)
    assert received.reference == outgoing.idempotency_key
    assert received.subject == "Referral LRS-42: declined"
    assert "We only support people who live in Leeds." in received.body


async def test_a_text_message_reaches_notify_with_its_template_and_the_idempotency_key(notify):
    outgoing = message("sms", "07700 900123", personalisation={**VALUES, "has_note": "yes"})
    sent = await sms_sender(notify, sms_sender_id=str(uuid.uuid4())).send(outgoing)
    [received] = notify.notifications
    assert sent.provider_reference == received.id
    assert (received.type, received.to, received.template.id) == ("sms", "07700 900123", SMS_TEMPLATE)
    assert received.reference == outgoing.idempotency_key
    assert received.body.startswith("Referral LRS-42 was declined.")


async def test_a_template_kind_with_no_template_configured_is_refused_for_good_naming_the_setting(notify):
    with pytest.raises(SendError) as refused:
        await sms_sender(notify).send(message("sms", "07700900123", template="assigned"))
    assert refused.value.permanent
    assert "'assigned'" in str(refused.value)
    assert "GOVUK_NOTIFY_SMS_TEMPLATES" in str(refused.value)
    assert notify.notifications == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, None), (503, None), (429, "RateLimitError"), (429, "TooManyRequestsError"), (403, "AuthError")],
)
async def test_notify_unable_to_take_any_message_is_an_outage_not_an_attempt(notify, status, error):
    notify.fail_next(1, status=status, error=error)
    with pytest.raises(ProviderUnavailableError) as outage:
        await email_sender(notify).send(message())
    assert str(status) in str(outage.value)
    assert notify.faults.rejected == 1


async def test_a_bad_request_from_notify_refuses_the_message_for_good_with_notifys_words(notify):
    notify.fail_next(1, status=400, message="Can't send to this recipient when service is in trial mode")
    with pytest.raises(SendError) as refused:
        await email_sender(notify).send(message())
    assert refused.value.permanent
    assert "BadRequestError: Can't send to this recipient when service is in trial mode" in str(refused.value)


async def test_a_wrong_api_key_is_an_outage_naming_the_setting_without_showing_the_key(notify):
    service_id, secret = str(uuid.uuid4()), str(uuid.uuid4())
    notify.api_key(service_id, secret)
    wrong = notify_api_key(service_id, str(uuid.uuid4()))
    with pytest.raises(ProviderUnavailableError) as outage:
        await email_sender(notify, key=wrong).send(message())
    assert "Invalid token: API key not found" in str(outage.value)
    assert "GOVUK_NOTIFY_API_KEY" in str(outage.value)
    assert wrong[-36:] not in str(outage.value)
    assert notify.notifications == []


def test_a_key_not_in_notifys_format_is_refused_at_start_naming_the_setting_not_the_key():
    with pytest.raises(ValueError, match="GOVUK_NOTIFY_API_KEY") as refused:
        NotifyEmailSender(api_key=SecretStr("not-a-notify-key-s3cr3t"), templates={})
    assert "s3cr3t" not in str(refused.value)


@pytest.mark.parametrize(
    ("channel", "recipient", "overrides", "notify_says"),
    [
        (
            "email",
            "referrals@leedsroad.example.nhs.uk",
            {"templates": {"declined": str(uuid.uuid4())}},
            "Template not found",
        ),
        ("sms", "01132 496 0000", {}, "phone_number Not a UK mobile number"),
        ("email", "referrals at leedsroad", {}, "email_address Not a valid email address"),
        ("email", "referrals@leedsroad.example.nhs.uk", {"templates": {"declined": SMS_TEMPLATE}}, "not suitable"),
    ],
)
async def test_a_message_notify_cannot_send_as_written_is_refused_for_good(
    notify, channel, recipient, overrides, notify_says
):
    sender = sms_sender(notify, **overrides) if channel == "sms" else email_sender(notify, **overrides)
    with pytest.raises(SendError) as refused:
        await sender.send(message(channel, recipient))
    assert refused.value.permanent
    assert notify_says in str(refused.value)
    assert "400" in str(refused.value)


async def test_missing_personalisation_is_refused_for_good_naming_the_fields(notify):
    with pytest.raises(SendError) as refused:
        await email_sender(notify).send(message(personalisation={"outcome": "declined"}))
    assert refused.value.permanent
    assert "Missing personalisation: referral reference, referrer name, has_note, note" in str(refused.value)


async def test_notify_out_of_reach_is_an_outage():
    sender = NotifyEmailSender(
        api_key=SecretStr(notify_api_key(str(uuid.uuid4()), str(uuid.uuid4()))),
        templates={"declined": EMAIL_TEMPLATE},
        base_url=f"http://127.0.0.1:{free_port()}",
        timeout_seconds=2.0,
    )
    with pytest.raises(ProviderUnavailableError, match="cannot be reached"):
        await sender.send(message())


async def test_a_late_answer_is_an_attempt_that_may_have_been_taken_and_already_sent_then_finds_it(notify):
    key = notify.api_key()
    outgoing = message()
    notify.faults.delay_seconds = 1.5
    with pytest.raises(SendError) as late:
        await email_sender(notify, key=key, timeout_seconds=0.5).send(outgoing)
    assert not late.value.permanent
    assert "may have been taken" in str(late.value)
    notify.faults.delay_seconds = 0
    [taken] = notify.notifications
    receipts = receipts_for(notify, key)
    assert await receipts.already_sent(outgoing.idempotency_key) == taken.id
    assert await receipts.already_sent(f"email:{uuid.uuid4()}") is None
    assert len(notify.notifications) == 1


async def test_a_connection_dropped_after_the_request_went_is_an_attempt_that_may_have_been_taken():
    async def read_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(read_then_hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = NotifyEmailSender(
        api_key=SecretStr(notify_api_key(str(uuid.uuid4()), str(uuid.uuid4()))),
        templates={"declined": EMAIL_TEMPLATE},
        base_url=f"http://127.0.0.1:{port}",
    )
    try:
        with pytest.raises(SendError) as lost:
            await sender.send(message())
    finally:
        server.close()
        await server.wait_closed()
    assert not lost.value.permanent
    assert "connection lost" in str(lost.value)


@pytest.mark.parametrize(
    ("final", "status", "detail"),
    [
        ("delivered", "delivered", "delivered"),
        ("permanent-failure", "permanent-failure", "permanent-failure"),
        ("temporary-failure", "temporary-failure", "temporary-failure"),
        ("technical-failure", "temporary-failure", "technical-failure"),
        ("never", "pending", "sending"),
    ],
)
async def test_notifys_receipt_becomes_signposts_receipt(notify, final, status, detail):
    key = notify.api_key()
    notify.faults.receipts = final
    sent = await email_sender(notify, key=key).send(message())
    receipts = receipts_for(notify, key)
    assert sent.provider_reference is not None
    first = await receipts.receipt(sent.provider_reference)
    assert (first.status, first.detail) == ("pending", "sending")
    await asyncio.sleep(RECEIPT_DELAY * 4)
    receipt = await receipts.receipt(sent.provider_reference)
    assert (receipt.status, receipt.detail) == (status, detail)
    assert receipt.at is not None
    assert receipt.at >= notify.notifications[0].created_at


async def test_a_message_notify_failed_to_hand_on_is_not_already_sent_so_it_goes_again(notify):
    key = notify.api_key()
    notify.faults.receipts = "technical-failure"
    outgoing = message()
    await email_sender(notify, key=key).send(outgoing)
    await asyncio.sleep(RECEIPT_DELAY * 4)
    assert await receipts_for(notify, key).already_sent(outgoing.idempotency_key) is None


async def test_receipts_that_cannot_be_read_are_an_outage(notify):
    outsider = notify_api_key(str(uuid.uuid4()), str(uuid.uuid4()))
    with pytest.raises(ProviderUnavailableError, match="service not found"):
        await receipts_for(notify, outsider).receipt(str(uuid.uuid4()))
    key = notify.api_key()
    with pytest.raises(ProviderUnavailableError, match="No result found"):
        await receipts_for(notify, key).receipt(str(uuid.uuid4()))
    gone = NotifyReceipts(api_key=SecretStr(key), base_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2.0)
    with pytest.raises(ProviderUnavailableError):
        await gone.already_sent("email:x")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("notify_status", "status"),
    [("created", "pending"), ("pending", "pending"), ("sent", "delivered"), ("a-new-status", "pending")],
)
def test_text_message_statuses_without_a_fake_switch_map_too(notify_status, status):
    receipt = receipt_from({"status": notify_status, "created_at": "2026-01-05T10:00:00.000000Z"})
    assert (receipt.status, receipt.detail) == (status, notify_status)
    assert receipt.at is not None
    assert receipt.at.utcoffset() is not None
