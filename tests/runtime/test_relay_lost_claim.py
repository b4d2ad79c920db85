"""A relay whose claim committed without its hearing back releases that claim after the failed cycle."""

from __future__ import annotations

import asyncio

import pytest

from signpost_contracts import Stream, topic
from support.events import referral_received
from support.infra import read_topic
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration


async def _stage_a_claim(probe, owner: str) -> str:
    await probe._relay.stop(flush_timeout=0)  # hold the row back while the lost claim is staged
    event = referral_received()
    async with probe.pool.acquire() as conn, conn.transaction():
        await probe.outbox.add_event(conn, event)
    await probe.pool.execute("UPDATE outbox SET lease_until = now() + interval '1 hour', lease_owner = $1", owner)
    probe._relay._may_hold_leases = True  # what a cycle that failed after claiming leaves behind
    probe._relay.start()
    return event.id


async def test_a_relay_releases_its_own_lost_claim_and_publishes_at_once(infrastructure, namespace, database_url):
    probe = probe_runtime(infrastructure, namespace, database_url, outbox_lease_seconds=3600)
    async with probe.lifespan():
        event_id = await _stage_a_claim(probe, probe._relay.owner)
        [record] = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=1, timeout=10)
        assert dict(record.headers)["ce_id"].decode() == event_id


async def test_a_relay_never_releases_a_claim_another_relay_holds(infrastructure, namespace, database_url):
    probe = probe_runtime(infrastructure, namespace, database_url, outbox_lease_seconds=3600)
    async with probe.lifespan():
        await _stage_a_claim(probe, "another-relay")
        await asyncio.sleep(2)  # two poll intervals: time enough to publish had the lease been released
        row = await probe.pool.fetchrow("SELECT sent_at, lease_owner FROM outbox")
        assert row["sent_at"] is None
        assert row["lease_owner"] == "another-relay"
