"""Kill the outbox relay process mid-publish; after a restart every committed event is on Kafka."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from signpost_contracts import Stream, topic
from signpost_runtime.db import apply_migrations, create_pool
from signpost_runtime.outbox import Outbox
from support.events import referral_received
from support.infra import read_topic, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RELAY_SCRIPT = Path(__file__).parents[1] / "support" / "relay_process.py"
EVENTS = 1500


def _start_relay(infrastructure, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        "PYTHONPATH": str(RELAY_SCRIPT.parents[1]),
    }
    return subprocess.Popen([sys.executable, str(RELAY_SCRIPT)], env=env)


async def test_events_committed_to_the_outbox_are_published_after_the_relay_is_killed_and_restarted(
    infrastructure, namespace, database_url, tmp_path
):
    pool = await create_pool(database_url, 4)
    await apply_migrations(pool, tmp_path)  # runtime tables only
    events = [referral_received() for _ in range(EVENTS)]
    outbox = Outbox(namespace.name)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add_events(conn, events)

    async def sent() -> int:
        return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"))

    relay = _start_relay(infrastructure, database_url)
    try:
        await wait_until(lambda: _at_least(sent, 100), timeout=30, message="the relay to publish some events")
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
    finally:
        relay.kill()
    published_before_restart = await sent()
    assert published_before_restart < EVENTS, "the kill must land mid-way for this test to mean anything"

    relay = _start_relay(infrastructure, database_url)
    try:
        await wait_until(lambda: _at_least(sent, EVENTS), timeout=60, message="every outbox row marked sent")
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(15)
    await pool.close()

    expected_ids = {event.id for event in events}

    def ids(records: list) -> set[str]:
        return {dict(record.headers)["ce_id"].decode() for record in records}

    records = await read_topic(
        namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), until=lambda rs: ids(rs) >= expected_ids
    )
    assert ids(records) == expected_ids, "nothing committed is lost"


async def _at_least(count, threshold: int) -> bool:
    return await count() >= threshold
