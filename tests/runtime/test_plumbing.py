"""The runtime kit on a real broker and PostgreSQL: inbox, dead letters, outbox relay."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from signpost_contracts import Stream, dead_letter_topic, topic
from support.events import referral_received
from support.infra import as_record, publish, publish_records, read_topic, wait_until

pytestmark = pytest.mark.integration


async def _effects(pool: asyncpg.Pool, referral_id: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM effects WHERE referral_id = $1", referral_id))


async def test_a_duplicated_event_causes_no_second_effect(probe, namespace):
    event = referral_received()
    await publish(namespace, [event] * 3)
    marker = referral_received()
    await publish(namespace, [marker])

    await wait_until(lambda: _effects(probe.pool, marker.subject), message="the marker event to be applied")
    assert await _effects(probe.pool, event.subject) == 1
    published = await read_topic(namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), expect=2)
    assert sorted(r.key.decode() for r in published) == sorted([event.subject, marker.subject])


async def test_a_poison_message_is_dead_lettered_and_the_next_one_still_processed(probe, namespace):
    referrals = topic(Stream.REFERRALS, namespace.name)
    good = referral_received()
    not_a_cloudevent = (good.key(), b'{"hello": "world"}', [])
    bad_payload = referral_received(referral_id=good.subject)
    key, _, headers = as_record(bad_payload)
    bad_record = (key, b'{"referral_id": 42}', headers)
    await publish_records(namespace.bootstrap, referrals, [not_a_cloudevent, bad_record, as_record(good)])

    await wait_until(lambda: _effects(probe.pool, good.subject), message="the good event after two poison ones")
    dead = await read_topic(namespace.bootstrap, dead_letter_topic("probe", namespace.name), expect=2)
    assert len(dead) == 2
    by_value = {record.value: dict(record.headers) for record in dead}
    assert b'{"hello": "world"}' in by_value, "the record travels whole"
    assert b"missing CloudEvents header" in by_value[b'{"hello": "world"}']["dlq_reason"]
    bad_headers = by_value[b'{"referral_id": 42}']
    assert bad_headers["ce_id"].decode() == bad_payload.id
    assert b"PayloadError: the event's data is not a valid ReferralReceived" in bad_headers["dlq_reason"]
    assert bad_headers["dlq_original_topic"].decode() == referrals


async def test_outbox_rows_committed_while_the_relay_is_down_are_published_when_it_returns(probe, namespace):
    await probe._relay.stop(flush_timeout=0)  # the relay "process" is gone; commits keep landing
    events = [referral_received() for _ in range(5)]
    async with probe.pool.acquire() as conn, conn.transaction():
        await probe.outbox.add_events(conn, events)
    await asyncio.sleep(0.5)
    assert await probe.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5

    probe._relay.start()
    published = await read_topic(namespace.bootstrap, topic(Stream.REFERRALS, namespace.name), expect=5)
    assert sorted(dict(r.headers)["ce_id"].decode() for r in published) == sorted(e.id for e in events)
