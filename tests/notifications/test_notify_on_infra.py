"""GOV.UK Notify on the real broker and PostgreSQL, against the fake Notify holding Signpost's templates: an
urgent redirect goes by SMS at once and is escalated when no receipt confirms it; receipts turned into
delivered or failed (then the next route); a late answer or a second replica never sends twice; Notify down
for 90 seconds loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from notifications.app import build_dispatcher
from notifications.config import NotificationsSettings
from notifications.notifications_cli import main as notifications_cli
from signpost_contracts.events.referrals import ReferrerContact, ReferrerV2
from signpost_devstack.fake_notify import FakeNotify
from support.auth import bearer
from support.events import referral_received_v2
from support.infra import wait_until

from .conftest import RunningNotifications, received, triaged

TEMPLATES = Path(NotificationsSettings().govuk_notify_templates_file)
URGENT_SMS = "07700900123"
REFERRER_EMAIL = "referrals@leedsroad.example.nhs.uk"
DUTY_EMAIL = "duty@signpost.example.org"
STAFF = bearer("notifications:read", "referrals:read-all")


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify(port=0, templates=TEMPLATES, receipt_delay_seconds=0.2) as running:
        yield running


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """The practice of the event builders, with an urgent number, email as its usual channel."""
    path = tmp_path / "directory.json"
    path.write_text(json.dumps([{"id": "B82005", "channels": ["email"], "urgent_sms": URGENT_SMS}]))
    return path


def with_notify(notify: FakeNotify, directory: Path, **more: Any) -> dict[str, Any]:
    return {
        "govuk_notify_api_key": notify.api_key(),
        "govuk_notify_base_url": notify.base_url,
        "govuk_notify_timeout_seconds": 2,
        "referrer_directory_file": str(directory),
        "receipt_poll_seconds": 0.2,
        "follow_up_every_seconds": 0.2,
        "smtp_outage_backoff_seconds": 0.2,
        "smtp_outage_backoff_max_seconds": 2.0,
        **more,
    }


def _by_route(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["channel"], row["audience"]): row for row in rows}


async def _rows(service: RunningNotifications, referral_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    return _by_route(await service.deliveries(referral_id))


async def _until(service: RunningNotifications, referral_id: str, check: Any, what: str, timeout: float = 20) -> None:
    await service.deliveries_once(referral_id, lambda rows: bool(check(_by_route(rows))), what, timeout=timeout)


async def test_an_urgent_redirect_goes_by_sms_at_once_and_a_delivered_receipt_closes_its_alert(
    start_notifications, notify, directory, referral_id
):
    async with start_notifications(**with_notify(notify, directory, urgent_confirm_seconds=30)) as service:
        redirect = triaged(referral_id, "redirected")
        await service.publish(received(referral_id), redirect)
        await _until(
            service,
            referral_id,
            lambda rows: (r := rows.get(("sms", "referrer"))) and r["confirmed_at"] is not None,
            "the SMS confirmed delivered by its receipt",
        )
        [sms] = notify.notifications
        assert (sms.type, sms.to, sms.reference) == ("sms", URGENT_SMS, f"sms:{redirect.id}"), "keyed by the event"
        assert sms.body.startswith("Signpost URGENT: referral LRS-2024-0042 needs action today")
        assert "Leeds Mental Health Crisis Team" in sms.body
        assert "suicid" not in sms.body.lower(), "no clinical detail"
        assert "self-harm" not in sms.body.lower(), "no clinical detail"
        rows = await _rows(service, referral_id)
        assert rows[("sms", "referrer")]["receipt"] == "delivered"
        [details] = await service.emails(1)
        assert details.rcpt_tos == [REFERRER_EMAIL], "the whole message goes on the usual route with the alert"
        assert (await service.client.get("/urgent", headers=STAFF)).json()["alerts"] == [], "confirmed"
        await asyncio.sleep(0.6)
        assert len(notify.notifications) == 1
        assert len(service.sink.messages) == 1, "confirmed: nothing escalated"


async def test_an_urgent_sms_never_confirmed_is_escalated_to_email_then_the_duty_coordinator(
    start_notifications, notify, directory, referral_id
):
    notify.faults.receipts = "never"  # the phone is off: Notify keeps it "sending"
    settings = with_notify(notify, directory, urgent_confirm_seconds=1.0, duty_coordinator_email=DUTY_EMAIL)
    async with start_notifications(**settings) as service:
        await service.publish(received(referral_id), triaged(referral_id, "redirected"))
        emails = await service.emails(2)

        assert [email.rcpt_tos for email in emails] == [[REFERRER_EMAIL], [DUTY_EMAIL]]
        assert [n.to for n in notify.notifications] == [URGENT_SMS]
        alerts = (await service.client.get("/urgent", headers=STAFF)).json()["alerts"]
        assert len(alerts) == 1
        assert alerts[0]["escalations"] >= 1


async def test_a_permanent_failure_receipt_fails_the_sms_sends_the_next_route_and_can_be_re_driven(
    start_notifications, notify, directory, referral_id
):
    notify.faults.receipts = "permanent-failure"
    async with start_notifications(**with_notify(notify, directory, urgent_confirm_seconds=60)) as service:
        await service.publish(received(referral_id), triaged(referral_id, "redirected"))
        await _until(
            service,
            referral_id,
            lambda rows: (r := rows.get(("sms", "referrer"))) and r["status"] == "failed",
            "the SMS failed by its receipt",
        )
        [email] = await service.emails(1)
        assert email.rcpt_tos == [REFERRER_EMAIL], "the next route has the message (it went with the alert)"
        rows = await _rows(service, referral_id)
        sms = rows[("sms", "referrer")]
        assert (sms["status"], sms["receipt"]) == ("failed", "permanent-failure")
        assert "permanent-failure" in sms["last_error"]
        failed = (await service.client.get("/deliveries/failed", headers=STAFF)).json()["deliveries"]
        assert [d["notification_id"] for d in failed] == [str(sms["notification_id"])]

        notify.faults.receipts = "delivered"
        database = ["--database-url", service.runtime.settings.database_url]
        redrive = ["redrive", "--notification-id", str(sms["notification_id"]), *database]
        assert await asyncio.to_thread(notifications_cli, redrive) == 0
        await _until(
            service,
            referral_id,
            lambda rows: rows[("sms", "referrer")]["receipt"] == "delivered",
            "the re-driven SMS delivered",
        )
        assert len(notify.notifications) == 2, "sent once more, as asked"


async def test_notify_answering_late_takes_the_message_once_however_often_the_send_is_retried(
    start_notifications, notify, directory, referral_id
):
    notify.faults.delay_seconds = 3.0  # longer than the client's 2 s timeout: the answer is lost, the SMS taken
    async with start_notifications(
        **with_notify(notify, directory, urgent_confirm_seconds=60, delivery_retry_backoff_seconds=0.2)
    ) as service:
        await service.publish(received(referral_id), triaged(referral_id, "redirected"))
        await _until(
            service,
            referral_id,
            lambda rows: (r := rows.get(("sms", "referrer"))) and r["status"] == "sent",
            "the SMS recorded as sent after the lost answer",
        )
        notify.faults.delay_seconds = 0
        await asyncio.sleep(1.0)
        assert len(notify.notifications) == 1, "the retry found it at Notify by its reference and did not resend"
        rows = await _rows(service, referral_id)
        assert rows[("sms", "referrer")]["provider_reference"] == notify.notifications[0].id


async def test_two_replicas_send_each_sms_once(start_notifications, notify, directory):
    referral_ids = [f"two-replicas-{n}" for n in range(8)]
    async with start_notifications(**with_notify(notify, directory, urgent_confirm_seconds=60)) as service:
        second = build_dispatcher(service.runtime, service.runtime.settings)
        second.start()
        try:
            for referral_id in referral_ids:
                await service.publish(received(referral_id), triaged(referral_id, "redirected"))

            async def all_sent() -> bool:
                return len(notify.notifications) >= len(referral_ids)

            await wait_until(all_sent, message="every SMS at the fake Notify")
            await asyncio.sleep(1.0)
        finally:
            await second.stop()
    references = [n.reference for n in notify.notifications]
    assert len(references) == len(set(references)) == len(referral_ids)


async def test_notify_down_for_90_seconds_then_back_delivers_every_message_once(start_notifications, notify, directory):
    people = [f"self-{n}" for n in range(5)]
    settings = with_notify(notify, directory, email_provider="notify", urgent_confirm_seconds=600)
    async with start_notifications(**settings) as service:
        await notify.stop()  # connection refused from now on
        for n, referral_id in enumerate(people):
            await service.publish(
                referral_received_v2(
                    referral_id,
                    channel="self-referral",
                    referrer=_self_referrer(f"person{n}@example.org"),
                )
            )
        await asyncio.sleep(90)
        rows = [row for referral_id in people for row in await service.deliveries(referral_id)]
        assert len(rows) == len(people)
        assert {(row["status"], row["attempts"]) for row in rows} == {("pending", 0)}, "an outage spends no attempt"
        await notify.start()  # back, on the same port

        async def every_one_delivered() -> bool:
            rows = [row for referral_id in people for row in await service.deliveries(referral_id)]
            return all(row["receipt"] == "delivered" for row in rows)

        await wait_until(every_one_delivered, message="every acknowledgement delivered", timeout=30)
    assert sorted(n.to for n in notify.notifications) == sorted(f"person{n}@example.org" for n in range(5))
    assert all(n.type == "email" and n.template.name == "self/received" for n in notify.notifications)


def _self_referrer(email: str) -> Any:
    return ReferrerV2(kind="self", contact=ReferrerContact(email=email))


async def test_a_receipt_that_comes_late_is_waited_for_and_never_a_reason_to_send_again(
    start_notifications, notify, directory, referral_id
):
    notify.receipt_delay_seconds = 4.0  # Notify says "sending" for 4 s, asked every 0.2 s meanwhile
    async with start_notifications(**with_notify(notify, directory, urgent_confirm_seconds=60)) as service:
        await service.publish(received(referral_id), triaged(referral_id, "redirected"))
        await _until(
            service,
            referral_id,
            lambda rows: (r := rows.get(("sms", "referrer"))) and r["receipt"] == "pending",
            "the SMS sent and its receipt awaited",
        )
        await asyncio.sleep(2.0)
        assert (await _rows(service, referral_id))[("sms", "referrer")]["receipt"] == "pending"
        await _until(
            service,
            referral_id,
            lambda rows: rows[("sms", "referrer")]["receipt"] == "delivered",
            "the late receipt recorded",
        )
        assert len(notify.notifications) == 1, "a receipt still to come is waited for, not answered by a resend"
        assert (await service.client.get("/urgent", headers=STAFF)).json()["alerts"] == []
