"""An instance's pipeline health read from the real outbox table and a real consumer on the broker."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from signpost_contracts import Stream, topic
from signpost_runtime.outbox import park_record
from signpost_runtime.pipeline_health import outbox_figures
from signpost_runtime.publishing import OutgoingRecord
from support.events import referral_received
from support.infra import publish, wait_until

pytestmark = pytest.mark.integration


async def _add_outbox_row(pool, event_id: str, *, sent: bool = False, parked: bool = False) -> None:
    await pool.execute(
        "INSERT INTO outbox (event_id, event_type, topic, message_key, headers, payload, sent_at, parked_at)"
        " VALUES ($1, 'referral.received.v1', 't', 'k', '{}', '\\x00',"
        " CASE WHEN $2 THEN now() END, CASE WHEN $3 THEN now() END)",
        event_id,
        sent,
        parked,
    )


async def test_outbox_figures_count_waiting_and_parked_rows_and_the_parked_dead_letter_copies(probe):
    await probe._relay.stop()  # nothing is published behind the test's back while it counts
    for n in range(3):
        await _add_outbox_row(probe.pool, f"waiting-{n}")
    await _add_outbox_row(probe.pool, "sent", sent=True)
    await _add_outbox_row(probe.pool, "parked-event", parked=True)
    await _add_outbox_row(probe.pool, "parked-then-retried-and-sent", sent=True, parked=True)
    copy = OutgoingRecord(topic="t.dlq.probe", key=b"k", value=b"{}", headers={"ce_type": "referral.received.v1"})
    await park_record(probe.pool, copy, record_id="dead-letter:probe:t.referrals:0:7", reason="too large")

    figures = await outbox_figures(probe.pool)

    assert (figures.waiting, figures.parked, figures.dead_letters_parked) == (3, 2, 1)


async def test_the_report_carries_the_outbox_figures_and_names_the_instance(probe):
    await probe._relay.stop()
    await _add_outbox_row(probe.pool, "parked-event", parked=True)
    health = await probe.pipeline_health()
    assert (health.service, health.instance) == ("probe", probe.settings.instance_id)
    assert (health.outbox_waiting, health.outbox_parked, health.dead_letters_parked) == (0, 1, 0)
    assert health.every_seconds == probe.settings.pipeline_health_every_seconds


async def test_lag_counts_the_records_a_busy_consumer_has_not_reached_and_returns_to_nothing(probe, namespace):
    referrals = topic(Stream.REFERRALS, namespace.name)
    # Each takes the probe's handler three seconds: while it holds the first, the others wait behind it.
    await publish(namespace, [referral_received(needs=["hang"]) for _ in range(3)], partition=0)

    async def lag() -> int:
        health = await probe.pipeline_health()
        return sum(c.lag for c in health.consumers if c.topic == referrals)

    async def behind() -> bool:
        return await lag() >= 2

    await wait_until(behind, timeout=8, message="the report to show the records waiting behind the one in hand")
    health = await probe.pipeline_health()
    (row,) = [c for c in health.consumers if c.topic == referrals]
    assert row.group == probe.settings.consumer_group
    assert row.partitions == 3  # the whole topic: the probe is its group's only member

    async def caught_up() -> bool:
        return await lag() == 0

    # Lag is what the consumer has not taken yet: it is nothing once the last record is in hand, not yet handled.
    await wait_until(caught_up, timeout=20, message="the lag to return to nothing once every record was taken")

    async def all_handled() -> bool:
        return await probe.pool.fetchval("SELECT count(*) FROM effects") == 3

    await wait_until(all_handled, timeout=10, message="the last record to be handled before the probe stops")


async def test_dead_letters_sent_counts_what_this_instance_dead_lettered(probe, namespace):
    def sent() -> float:
        return REGISTRY.get_sample_value("signpost_dead_letters_total", {"consumer": "probe"}) or 0.0

    before = (await probe.pipeline_health()).dead_letters_sent
    assert before == sent()
    blocked = referral_received()
    await probe.pool.execute("INSERT INTO blocked (referral_id) VALUES ($1)", blocked.subject)
    await publish(namespace, [blocked])

    async def reported() -> bool:
        return (await probe.pipeline_health()).dead_letters_sent == before + 1

    await wait_until(reported, message="the dead letter to be counted in the report")
