"""Two dispatchers (two replicas of notifications) and a slow SMTP server: never the same email twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from notifications.app import build_dispatcher, create_app
from notifications.config import NotificationsSettings
from support.events import referral_assigned, referral_received
from support.infra import publish, wait_until
from support.services import serving, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class SlowSmtpServer:
    """Answers every SMTP command after `delay` seconds: each command is quick enough, the exchange is not."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: bytes) -> None:
            await asyncio.sleep(self.delay)
            writer.write(line + b"\r\n")
            await writer.drain()

        await say(b"220 slow.example ESMTP")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                await say(b"354 go ahead")
                self.messages.append(await reader.readuntil(b"\r\n.\r\n"))
                await say(b"250 queued")
            elif verb == b"QUIT":
                await say(b"221 bye")
                break
            else:
                await say(b"250 slow.example" if verb in (b"EHLO", b"HELO") else b"250 ok")
        writer.close()


async def _two_replicas_send_one_outcome(
    infrastructure, namespace, database_url, smtp: SlowSmtpServer, lease: float, watch_for: float
) -> AsyncIterator[dict]:
    server = await asyncio.start_server(smtp.handle, "127.0.0.1", 0)
    settings = settings_for(
        NotificationsSettings,
        infrastructure,
        namespace,
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=server.sockets[0].getsockname()[1],
        smtp_timeout_seconds=1.0,
        smtp_start_tls=False,
        dispatcher_lease_seconds=lease,
        dispatcher_poll_seconds=0.2,
        delivery_retry_backoff_seconds=30,
    )
    app = create_app(settings)
    async with serving(app):
        runtime = app.state.runtime
        second_replica = build_dispatcher(runtime, settings)
        second_replica.start()
        referral_id = str(uuid.uuid4())
        await publish(namespace, [referral_received(referral_id), referral_assigned(referral_id)])
        await wait_until(
            lambda: runtime.pool.fetchval("SELECT claims >= 1 FROM deliveries"), message="the delivery claimed"
        )
        await asyncio.sleep(watch_for)  # long enough for every lease in play to lapse
        await second_replica.stop()
        row = await runtime.pool.fetchrow("SELECT status, attempts, last_error FROM deliveries")
    server.close()
    yield dict(row)


async def test_a_slow_server_within_the_deadline_gets_the_email_exactly_once(infrastructure, namespace, database_url):
    smtp = SlowSmtpServer(delay=0.3)  # about 2.4 s for the whole exchange, inside 75% of a 5 s lease
    async for row in _two_replicas_send_one_outcome(infrastructure, namespace, database_url, smtp, 5.0, 7.0):
        assert row["status"] == "sent"
        assert row["attempts"] == 1
    assert len(smtp.messages) == 1


async def test_a_server_slower_than_the_lease_never_gets_the_same_email_twice(infrastructure, namespace, database_url):
    smtp = SlowSmtpServer(delay=0.7)  # about 5.6 s for the exchange; the lease is 1.5 s
    async for row in _two_replicas_send_one_outcome(infrastructure, namespace, database_url, smtp, 1.5, 6.0):
        assert row["status"] == "pending", "retried later, not lost"
        assert "did not finish within" in row["last_error"]
    assert len(smtp.messages) <= 1, "a replica must not send while another may still be sending"
