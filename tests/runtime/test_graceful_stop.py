"""Stopping in order: work that background workers finish on the way out is still published."""

from __future__ import annotations

import dataclasses

import pytest

from signpost_contracts import Stream, topic
from signpost_runtime.runtime import ServiceRuntime
from support.events import referral_received
from support.infra import read_topic
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration


async def test_an_event_committed_by_a_stop_hook_is_published_before_the_service_exits(
    infrastructure, namespace, database_url
):
    last_words = referral_received()

    async def finish_in_flight_work(runtime: ServiceRuntime) -> None:
        # What the notifications dispatcher does when a send completes during shutdown.
        async with runtime.pool.acquire() as conn, conn.transaction():
            await runtime.outbox.add_event(conn, last_words)

    probe = probe_runtime(infrastructure, namespace, database_url, outbox_poll_seconds=60)
    probe.definition = dataclasses.replace(probe.definition, on_stop=[finish_in_flight_work])
    await probe.start()
    await probe.stop()

    records = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=1, timeout=10)
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [last_words.id]
