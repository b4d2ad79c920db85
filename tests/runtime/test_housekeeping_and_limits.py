"""Bounded growth, bounded leases, bounded shutdown: the kit's limits, each proved on real infrastructure."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from signpost_runtime.housekeeping import prune
from signpost_runtime.http import build_app
from signpost_runtime.publishing import OutgoingRecord
from signpost_runtime.relay import OutboxRelay
from signpost_runtime.runtime import ServiceRuntime
from support.events import referral_received
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration


async def test_old_inbox_rows_and_old_sent_outbox_rows_are_pruned_and_recent_ones_kept(
    infrastructure, namespace, database_url
):
    probe = probe_runtime(infrastructure, namespace, database_url)
    async with probe.lifespan():
        pool = probe.pool
        await pool.execute(
            "INSERT INTO inbox (consumer, event_id, event_type, processed_at) VALUES"
            " ('probe', 'old', 't', now() - interval '40 days'), ('probe', 'recent', 't', now() - interval '1 day')"
        )
        events = [referral_received() for _ in range(3)]
        async with pool.acquire() as conn, conn.transaction():
            await probe.outbox.add_events(conn, events)
        await pool.execute("UPDATE outbox SET sent_at = now() - interval '2 days' WHERE event_id = $1", events[0].id)
        await pool.execute("UPDATE outbox SET sent_at = now() WHERE event_id = $1", events[1].id)
        await pool.execute(
            "UPDATE outbox SET lease_until = now() + interval '1 hour' WHERE event_id = $1", events[2].id
        )

        assert await prune(pool, outbox_retention_hours=24, inbox_retention_days=35) == (1, 1)
        assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM inbox ORDER BY event_id")] == ["recent"]
        kept = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")}
        assert kept == {events[1].id, events[2].id}, "recent and unsent rows are never pruned"


async def test_a_failed_publish_releases_only_a_lease_this_relay_still_holds(infrastructure, namespace, database_url):
    probe = probe_runtime(infrastructure, namespace, database_url, outbox_poll_seconds=3600)
    async with probe.lifespan():
        await probe._relay.stop(flush_timeout=0)  # only the relay under test touches the outbox
        async with probe.pool.acquire() as conn, conn.transaction():
            await probe.outbox.add_event(conn, referral_received())

        class OvertakenPublisher:
            """While publishing, another relay takes the rows over; then this publish fails."""

            def too_large(self, record: OutgoingRecord) -> str | None:
                return None

            async def publish_each(self, records: list[OutgoingRecord]) -> list[BaseException | None]:
                await probe.pool.execute("UPDATE outbox SET lease_until = now() + interval '1 hour'")
                return [ConnectionError("broker went away") for _ in records]

        relay = OutboxRelay(probe.pool, OvertakenPublisher(), database_url=database_url, lease_seconds=5)
        with pytest.raises(ConnectionError):
            await relay.relay_once()
        row = await probe.pool.fetchrow("SELECT lease_until IS NOT NULL AS held, last_error FROM outbox")
        assert row["held"], "the other relay's lease survives"
        assert row["last_error"] is None


async def test_liveness_fails_when_the_relay_stops_cycling(infrastructure, namespace, database_url):
    probe = probe_runtime(infrastructure, namespace, database_url)
    app = build_app(probe, title="probe")
    async with probe.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/health/live")).status_code == 200
        await probe._relay.stop(flush_timeout=0)
        hung = asyncio.create_task(asyncio.Event().wait())  # a relay task stuck on a call that never returns
        probe._relay._task = hung
        probe._relay.last_cycle_at = time.monotonic() - 1_000
        try:
            response = await c.get("/health/live")
        finally:
            hung.cancel()
            probe._relay._task = None
        assert response.status_code == 503
        assert response.json()["checks"]["outbox_relay"].startswith("no outbox-relay cycle for")


async def test_stopping_keeps_to_the_shutdown_budget_even_when_a_stop_hook_hangs(
    infrastructure, namespace, database_url
):
    async def hangs(runtime: ServiceRuntime) -> None:
        await asyncio.sleep(3600)

    probe = probe_runtime(infrastructure, namespace, database_url, shutdown_grace_seconds=2)
    probe.definition = dataclasses.replace(probe.definition, on_stop=[hangs])
    await probe.start()
    started = time.monotonic()
    await probe.stop()
    assert time.monotonic() - started < 5
    assert probe.pool._closed
