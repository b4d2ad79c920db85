"""A row the broker can never take is parked, and the rows behind it keep flowing.

Before this, one event larger than the producer's max_request_size blocked the outbox for ever:
the relay released its lease, claimed the same rows first again (ORDER BY id) and failed again.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from signpost_contracts import EventEnvelope, Stream, dead_letter_topic, topic
from signpost_devstack.broker import create_topics
from support.events import referral_received
from support.infra import as_record, publish_records, read_topic, wait_until
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration

LIMIT = 4096  # the probe's producer limit in these tests
OUTBOX = str(Path(sys.executable).with_name("signpost-outbox"))


def _oversized(event: EventEnvelope) -> EventEnvelope:
    return event.model_copy(update={"data": {**event.data, "padding": "x" * (2 * LIMIT)}})


@pytest.fixture
async def small_probe(infrastructure, namespace, database_url):
    await create_topics(namespace.bootstrap, [dead_letter_topic("probe", namespace.name)])
    runtime = probe_runtime(infrastructure, namespace, database_url, kafka_max_request_bytes=LIMIT)
    async with runtime.lifespan():
        yield runtime


async def _unsent(probe) -> int:
    return int(await probe.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL"))


async def test_an_event_too_large_to_publish_is_parked_and_later_events_still_go_out(small_probe, namespace):
    before, too_large, after = referral_received(), _oversized(referral_received()), referral_received()
    async with small_probe.unit_of_work() as unit:
        unit.publish(before, too_large, after)

    published = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=2)
    assert sorted(dict(r.headers)["ce_id"].decode() for r in published) == sorted([before.id, after.id])
    await wait_until(lambda: _parked(small_probe, too_large.id), message="the row to be parked")
    parked = await small_probe.pool.fetchrow(
        "SELECT parked_at, last_error, sent_at FROM outbox WHERE event_id = $1", too_large.id
    )
    assert parked["parked_at"] is not None
    assert parked["sent_at"] is None
    assert f"over the producer's limit of {LIMIT}" in parked["last_error"]
    await wait_until(lambda: _no_backlog(small_probe), message="the relay to settle")
    assert REGISTRY.get_sample_value("signpost_outbox_parked") == 1


async def _no_backlog(probe) -> bool:
    return await _unsent(probe) == 0


async def test_parked_rows_are_listed_and_retried_by_the_outbox_command(
    infrastructure, namespace, database_url, small_probe
):
    too_large = _oversized(referral_received())
    async with small_probe.unit_of_work() as unit:
        unit.publish(too_large)
    await wait_until(lambda: _parked(small_probe, too_large.id), message="the row to be parked")
    await small_probe.stop()

    code, out, err = await _outbox_command("list", "--database-url", database_url)
    assert code == 0, err
    assert too_large.id in out
    assert "1 parked row(s)" in err
    code, _, err = await _outbox_command("retry", "--database-url", database_url, "--event-id", too_large.id)
    assert code == 0, err
    assert "1 row(s) back in line" in err

    # The operator raised the limit and restarted the service.
    async with probe_runtime(infrastructure, namespace, database_url).lifespan():
        published = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=1)
    assert [dict(r.headers)["ce_id"].decode() for r in published] == [too_large.id]


async def _parked(probe, event_id: str) -> bool:
    return bool(await probe.pool.fetchval("SELECT parked_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id))


async def test_a_dead_letter_copy_too_large_for_its_topic_is_parked_and_the_partition_moves_on(small_probe, namespace):
    referrals = topic(Stream.REFERRALS, namespace.name)
    # Fits the topic on its own, but not once the dlq_* headers (the reason alone is up to 2,000 bytes) are added.
    nearly_full = (b"k", b"{" + b" " * (LIMIT - 200) + b"}", [])
    good = referral_received()
    # One partition, so the good message really is behind the poison one: its effect is only applied once the
    # dead-letter copy has been dealt with (on another partition the two would race).
    await publish_records(namespace.bootstrap, referrals, [nearly_full, as_record(good)], partition=0)

    await wait_until(
        lambda: small_probe.pool.fetchval("SELECT count(*) FROM effects WHERE referral_id = $1", good.subject),
        message="the message behind the poison one",
    )
    parked = await small_probe.pool.fetchrow(
        "SELECT event_id, topic, last_error FROM outbox WHERE parked_at IS NOT NULL"
    )
    assert parked["topic"] == dead_letter_topic("probe", namespace.name)
    assert parked["event_id"].startswith(f"dead-letter:probe:{referrals}:")
    assert "dead-letter copy refused" in parked["last_error"]


async def _outbox_command(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        OUTBOX, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    return int(process.returncode or 0), out.decode(), err.decode()
