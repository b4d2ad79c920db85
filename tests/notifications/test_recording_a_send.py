"""A sent email is never sent again, whatever the database does after the send.

Faults are injected in the real PostgreSQL: a trigger refuses the one statement that records a send
(pending -> sent) with the SQLSTATE under test while a fault row exists, so everything else (claims,
lease heartbeats, other deliveries) keeps working, as when a single write path fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from notifications.app import build_dispatcher
from notifications.domain.messages import OutgoingMessage, Sent
from support.events import referral_assigned, referral_received
from support.infra import wait_until

pytestmark = pytest.mark.integration

FAST = {"dispatcher_lease_seconds": 2.0, "smtp_timeout_seconds": 1.0, "dispatcher_poll_seconds": 0.2}

_REFUSE_RECORDING_SENT = """
CREATE TABLE injected_fault (sqlstate text NOT NULL);
CREATE FUNCTION refuse_recording_sent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE code text;
BEGIN
    SELECT sqlstate INTO code FROM injected_fault LIMIT 1;
    IF code IS NOT NULL AND OLD.status = 'pending' AND NEW.status = 'sent' THEN
        RAISE EXCEPTION 'injected fault: cannot record this send' USING ERRCODE = code;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_recording_sent BEFORE UPDATE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_recording_sent();
"""


@contextlib.asynccontextmanager
async def recording_refused(pool: asyncpg.Pool, sqlstate: str) -> AsyncIterator[None]:
    """While inside, recording a send fails with `sqlstate`; afterwards the database is healthy again."""
    await pool.execute(_REFUSE_RECORDING_SENT)
    await pool.execute("INSERT INTO injected_fault VALUES ($1)", sqlstate)
    try:
        yield
    finally:
        await pool.execute("DELETE FROM injected_fault")


async def _delivery(service: Any, referral_id: str) -> dict[str, Any]:
    [row] = await service.deliveries(referral_id)
    return row


async def _sent_recorded(service: Any, referral_id: str) -> None:
    await service.deliveries_once(
        referral_id,
        lambda rows: [row["status"] for row in rows] == ["sent"],
        "the send to be recorded once the database is healthy",
    )


async def _announced(service: Any, event_type: str) -> int:
    return int(await service.pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = $1", event_type))


def _possible_duplicates() -> float:
    return REGISTRY.get_sample_value("signpost_notification_possible_duplicates_total", {"channel": "email"}) or 0.0


@pytest.mark.parametrize(
    "sqlstate",
    [
        pytest.param("53100", id="disk-full"),
        pytest.param("25006", id="read-only-transaction"),
        pytest.param("P0001", id="an-error-no-list-calls-an-outage"),
        pytest.param("23514", id="check-violation"),
    ],
)
async def test_a_send_the_database_refuses_to_record_is_recorded_later_and_never_sent_again(
    start_notifications, referral_id, sqlstate
):
    async with start_notifications(**FAST) as service:
        async with recording_refused(service.pool, sqlstate):
            await service.publish(referral_received(referral_id), referral_assigned(referral_id))
            await service.emails(1)
            await asyncio.sleep(3 * FAST["dispatcher_lease_seconds"])  # many cycles, and the first lease long gone
            assert len(service.sink.messages) == 1
            assert (await _delivery(service, referral_id))["status"] == "pending"
        await _sent_recorded(service, referral_id)
        assert len(service.sink.messages) == 1
        row = await _delivery(service, referral_id)
        assert (row["attempts"], row["unrecorded_claims"]) == (1, 0)
        assert await _announced(service, "notification.sent.v1") == 1


@pytest.mark.parametrize("sqlstate", [pytest.param("53100", id="disk-full"), pytest.param("P0001", id="any-error")])
async def test_a_recording_outage_longer_than_the_lease_with_a_second_replica_running_sends_one_email(
    start_notifications, referral_id, sqlstate
):
    async with start_notifications(**FAST) as service:
        second_replica = build_dispatcher(service.runtime, service.runtime.settings)
        second_replica.start()
        try:
            async with recording_refused(service.pool, sqlstate):
                await service.publish(referral_received(referral_id), referral_assigned(referral_id))
                await service.emails(1)
                # The lease is extended while the send waits to be recorded: no replica may claim it.
                await asyncio.sleep(4 * FAST["dispatcher_lease_seconds"])
                assert len(service.sink.messages) == 1, "the other replica must not send it again"
            await _sent_recorded(service, referral_id)
            await asyncio.sleep(FAST["dispatcher_lease_seconds"])
        finally:
            await second_replica.stop()
        assert len(service.sink.messages) == 1
        assert await _announced(service, "notification.sent.v1") == 1


async def test_a_dispatcher_waiting_to_record_a_send_stays_alive_however_long_it_waits(
    start_notifications, referral_id
):
    async with start_notifications(**FAST) as service:
        async with recording_refused(service.pool, "53100"):
            await service.publish(referral_received(referral_id), referral_assigned(referral_id))
            await service.emails(1)
            await asyncio.sleep(0.5)
            service.dispatcher.last_cycle_at -= 3600  # as if it had waited an hour on the database
            live = await service.client.get("/health/live")
            assert live.json()["checks"]["delivery_dispatcher"] == "ok", "a restart would forget the send"
        await _sent_recorded(service, referral_id)
        assert len(service.sink.messages) == 1


class TakesTheLeaseAwayAfterSending:
    """Sends, then (the first time) lets 'another replica' claim the delivery before the send is recorded."""

    def __init__(self, inner: Any, pool: asyncpg.Pool) -> None:
        self.inner, self.pool, self.taken = inner, pool, False

    async def send(self, email: OutgoingMessage) -> Sent:
        sent = await self.inner.send(email)
        if self.taken:
            return sent
        self.taken = True
        await self.pool.execute(
            "UPDATE deliveries SET lease_owner = 'another-replica', claims = claims + 1 WHERE idempotency_key = $1",
            email.idempotency_key,
        )
        return sent


async def test_a_send_recorded_after_its_claim_was_taken_over_counts_a_possible_duplicate_and_is_never_resent(
    start_notifications, referral_id
):
    async with start_notifications(**FAST) as service:
        dispatcher = service.dispatcher
        dispatcher.sender = TakesTheLeaseAwayAfterSending(dispatcher.sender, service.pool)
        duplicates_before = _possible_duplicates()
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await service.emails(1)

        async def counted() -> bool:
            return _possible_duplicates() > duplicates_before

        await wait_until(counted, message="the possible duplicate to be counted")
        row = await _delivery(service, referral_id)
        assert (row["status"], row["lease_owner"]) == ("pending", "another-replica"), "fenced out: not recorded"
        assert await _announced(service, "notification.sent.v1") == 0
        assert row["notification_id"] in dispatcher.sent_unrecorded

        # The other claim's lease lapses and this dispatcher claims it again: it records, it does not send.
        await _sent_recorded(service, referral_id)
        assert len(service.sink.messages) == 1
        assert await _announced(service, "notification.sent.v1") == 1
        assert row["notification_id"] not in dispatcher.sent_unrecorded


async def test_a_delivery_that_keeps_taking_its_dispatcher_down_is_failed_with_the_reason(
    start_notifications, referral_id
):
    async with start_notifications(**FAST, delivery_max_unrecorded_claims=2) as service:
        await service.dispatcher.stop()
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await wait_until(lambda: service.deliveries(referral_id), message="the delivery to be created")
        # What two dispatchers that died while sending it leave behind.
        await service.pool.execute("UPDATE deliveries SET claims = 2, unrecorded_claims = 2")
        service.dispatcher.start()

        async def failed() -> bool:
            return (await _delivery(service, referral_id))["status"] == "failed"

        await wait_until(failed, message="the crash-looping delivery to be failed")
        row = await _delivery(service, referral_id)
        assert "claimed 2 times with no result recorded" in row["last_error"]
        assert row["attempts"] == 0
        assert await _announced(service, "notification.failed.v1") == 1
        assert service.sink.messages == []
