"""An SMTP outage of any length loses nothing; a refused email can be re-driven; a silent outcome is visible."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY

from notifications.notifications_cli import main as command
from signpost_devstack.processes import console_script
from support.auth import bearer
from support.events import referral_assigned, referral_received
from support.infra import wait_until

pytestmark = pytest.mark.integration

OUTAGE = {"smtp_outage_backoff_seconds": 0.1, "smtp_outage_backoff_max_seconds": 0.5, "smtp_timeout_seconds": 1}


def _gauge(name: str, labels: dict[str, str] | None = None) -> float | None:
    return REGISTRY.get_sample_value(name, labels or {})


async def _rows(service: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await service.pool.fetch("SELECT * FROM deliveries ORDER BY created_at")]


async def _tried(service: Any, count: int, *, every_one: bool = False) -> None:
    """Wait for `count` deliveries, and for the outage to have been met (by all of them with `every_one`)."""

    async def tried() -> bool:
        rows = await _rows(service)
        met = [row for row in rows if row["last_error"]]
        return len(rows) == count and len(met) == (count if every_one else len(met)) and bool(met)

    await wait_until(tried, message=f"{count} deliveries, and the outage met")


async def test_an_smtp_server_down_longer_than_every_retry_delivers_each_email_once_when_it_is_back(
    start_notifications, sink
):
    referrals = [str(uuid.uuid4()) for _ in range(3)]
    async with start_notifications(**OUTAGE) as service:
        await sink.stop()  # the port is closed: connection refused
        for referral_id in referrals:
            await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await _tried(service, len(referrals))
        await asyncio.sleep(3)  # five times attempts x backoff (3 x 0.2 s): every attempt would be spent
        rows = await _rows(service)
        assert {(row["status"], row["attempts"]) for row in rows} == {("pending", 0)}, "an outage spends no attempt"
        assert "Connect call failed" in rows[0]["last_error"], "the oldest delivery probes the server"
        assert _gauge("signpost_notification_provider_unreachable", {"channel": "email"}) == 1

        await sink.start()
        await service.emails(len(referrals))
        await wait_until(
            lambda: service.pool.fetchval("SELECT bool_and(status = 'sent') FROM deliveries"),
            message="every delivery recorded as sent",
        )
        await asyncio.sleep(1)
        assert sorted(m.headers["X-Signpost-Referral-Id"] for m in sink.messages) == sorted(referrals)
        assert [row["attempts"] for row in await _rows(service)] == [1, 1, 1]
        assert _gauge("signpost_notification_provider_unreachable", {"channel": "email"}) == 0


async def test_421_service_not_available_is_waited_out_without_spending_attempts(
    start_notifications, sink, referral_id
):
    async with start_notifications(**OUTAGE) as service:
        sink.fail_next(6, code=421)  # twice the attempts allowed
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        [email] = await service.emails(1)
        assert sink.faults.rejected == 6
        await wait_until(lambda: service.pool.fetchval("SELECT status = 'sent' FROM deliveries"), message="sent")
        [row] = await _rows(service)
        assert row["attempts"] == 1
        assert email.headers["X-Signpost-Referral-Id"] == referral_id


class CountingDeadServer:
    """Accepts a connection and hangs up at once, like a provider whose backend is gone; counts the tries."""

    def __init__(self) -> None:
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


async def test_a_provider_that_is_down_is_probed_by_one_delivery_not_hammered_by_all(start_notifications):
    dead = CountingDeadServer()
    server = await asyncio.start_server(dead.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # The first probe comes 0.5-1 s after the batch failed: long enough for the test to count the batch first.
        overrides = {**OUTAGE, "smtp_outage_backoff_seconds": 1.0, "smtp_outage_backoff_max_seconds": 1.0}
        async with start_notifications(smtp_port=port, dispatcher_batch_size=10, **overrides) as service:
            await service.dispatcher.stop()
            for _ in range(10):
                referral_id = str(uuid.uuid4())
                await service.publish(referral_received(referral_id), referral_assigned(referral_id))
            await wait_until(
                lambda: service.pool.fetchval("SELECT count(*) = 10 FROM deliveries"), message="ten deliveries"
            )
            service.dispatcher.start()
            await _tried(service, 10, every_one=True)
            tried_together = dead.connections
            await asyncio.sleep(3)
            probes = dead.connections - tried_together
            assert tried_together == 10, "the first batch meets the outage together"
            assert 1 <= probes <= 6, f"{probes} probes in 3 s: one at a time, 0.5-1 s apart"
            assert {row["attempts"] for row in await _rows(service)} == {0}
    finally:
        server.close()


async def _run_command(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    process = await asyncio.create_subprocess_exec(
        console_script("signpost-notifications"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, [json.loads(line) for line in out.decode().splitlines()], err.decode()


async def _status(service: Any) -> str:
    return str(await service.pool.fetchval("SELECT status FROM deliveries"))


async def test_a_refused_email_fails_at_once_and_the_redrive_command_sends_it_once(
    start_notifications, sink, database_url, referral_id
):
    async with start_notifications() as service:
        sink.fail_next(1, code=550)
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await wait_until(lambda: service.pool.fetchval("SELECT status = 'failed' FROM deliveries"), message="failed")
        [failed] = await _rows(service)
        assert failed["attempts"] == 1
        nid = str(failed["notification_id"])

        code, printed, summary = await _run_command("redrive", "--notification-id", nid, "--database-url", database_url)
        assert (code, printed) == (0, [{"notification_id": nid, "redriven": True}]), summary

        await service.emails(1)
        await wait_until(lambda: service.pool.fetchval("SELECT status = 'sent' FROM deliveries"), message="sent")
        await asyncio.sleep(1)
        assert len(sink.messages) == 1
        [sent] = await _rows(service)
        assert (sent["attempts"], sent["failed_at"]) == (1, None)
        assert sent["redriven_at"] is not None
        events = await service.pool.fetch("SELECT event_type FROM outbox ORDER BY id")
        assert [e["event_type"] for e in events] == ["notification.failed.v1", "notification.sent.v1"]

        code, printed, _ = await _run_command("redrive", "--notification-id", nid, "--database-url", database_url)
        assert code == 1, "nothing re-driven: it is sent"
        assert "it is sent" in printed[0]["reason"]


async def test_redrive_by_referral_or_every_failed_since_a_moment(start_notifications, sink, database_url):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    async with start_notifications() as service:
        sink.fail_next(2, code=550)
        await service.publish(referral_received(first), referral_assigned(first))
        await service.publish(referral_received(second), referral_assigned(second))
        await wait_until(
            lambda: service.pool.fetchval("SELECT count(*) = 2 FROM deliveries WHERE status = 'failed'"),
            message="two failed deliveries",
        )
        assert (
            await asyncio.to_thread(command, ["redrive", "--referral-id", first, "--database-url", database_url]) == 0
        )
        [email] = await service.emails(1)
        assert email.headers["X-Signpost-Referral-Id"] == first

        later = "2999-01-01T00:00:00+00:00"
        assert (
            await asyncio.to_thread(
                command, ["redrive", "--all-failed", "--since", later, "--database-url", database_url]
            )
            == 1
        )
        assert await asyncio.to_thread(command, ["redrive", "--all-failed", "--database-url", database_url]) == 0
        await service.emails(2)
        assert sorted(m.headers["X-Signpost-Referral-Id"] for m in sink.messages) == sorted([first, second])


async def test_an_outcome_whose_referral_never_arrives_is_counted_and_listed_for_staff(
    start_notifications, database_url, referral_id, capsys
):
    watch = {"outcome_awaiting_referral_alert_seconds": 0.5, "awaiting_referral_check_seconds": 0.2}
    async with start_notifications(**watch) as service:
        outcome = referral_assigned(referral_id)
        await service.publish(outcome)
        await service.consumed(outcome)

        async def counted() -> bool:
            return (_gauge("signpost_notification_outcomes_awaiting_referral") or 0) >= 1

        await wait_until(counted, message="the waiting outcome to be counted")
        path = "/outcomes/awaiting-referral"
        staff = bearer("notifications:read", "referrals:read-all", ods=None)
        listed = (await service.client.get(path, headers=staff)).json()
        assert [o["event_id"] for o in listed["outcomes"]] == [outcome.id]
        assert listed["outcomes"][0]["referral_id"] == referral_id
        assert listed["outcomes"][0]["waiting_seconds"] >= 0.5
        assert (await service.client.get(path, headers=bearer("notifications:read"))).status_code == 403
        assert (await service.client.get(path, headers=bearer("referrals:read-all"))).status_code == 403

        assert (
            await asyncio.to_thread(command, ["awaiting", "--longer-than-seconds", "0", "--database-url", database_url])
            == 0
        )
        printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [line["event_id"] for line in printed] == [outcome.id]

        await service.publish(referral_received(referral_id))
        await service.emails(1)
        assert (await service.client.get(path, headers=staff)).json()["outcomes"] == []

        async def cleared() -> bool:
            return _gauge("signpost_notification_outcomes_awaiting_referral") == 0

        await wait_until(cleared, message="the gauge to fall back to zero")


async def test_the_command_refuses_to_guess_the_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code, _, err = await _run_command("redrive", "--all-failed")
    assert code == 2
    assert "DATABASE_URL" in err
