"""A commit wakes the outbox relay at once (LISTEN/NOTIFY), not at its next poll."""

from __future__ import annotations

import time

import pytest

from signpost_contracts import Stream, topic
from support.events import referral_received
from support.infra import read_topic
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration


async def test_an_event_committed_to_the_outbox_is_published_long_before_the_next_poll(
    infrastructure, namespace, database_url
):
    runtime = probe_runtime(infrastructure, namespace, database_url, outbox_poll_seconds=60)
    async with runtime.lifespan():
        event = referral_received()
        committed = time.monotonic()
        async with runtime.pool.acquire() as conn, conn.transaction():
            await runtime.outbox.add_event(conn, event)
        [record] = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=1, timeout=10)
        assert dict(record.headers)["ce_id"].decode() == event.id
        assert time.monotonic() - committed < 5, "woken by the commit, not by the 60 s poll"
