"""The pipeline health figures an instance reports: consumer lag worked out from positions, and the report sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from signpost_contracts.events.operations import ConsumerLag, PipelineHealth
from signpost_runtime.pipeline_health import (
    PartitionPosition,
    PipelineHealthReporter,
    consumer_positions,
    lag_by_topic,
)
from signpost_runtime.publishing import OutgoingRecord

pytestmark = pytest.mark.unit


def test_lag_is_the_high_water_mark_minus_the_position_summed_per_topic():
    positions = [
        PartitionPosition("t.referrals", highwater=10, position=4),
        PartitionPosition("t.referrals", highwater=7, position=7),
        PartitionPosition("t.triage", highwater=3, position=1),
    ]
    assert lag_by_topic("t.reporting", positions) == [
        ConsumerLag(group="t.reporting", topic="t.referrals", partitions=2, lag=6),
        ConsumerLag(group="t.reporting", topic="t.triage", partitions=1, lag=2),
    ]


def test_a_partition_not_fetched_yet_is_counted_as_held_but_adds_no_lag():
    positions = [PartitionPosition("t.referrals", highwater=None, position=0), PartitionPosition("t.referrals", 5, 2)]
    assert lag_by_topic("g", positions) == [ConsumerLag(group="g", topic="t.referrals", partitions=2, lag=3)]


def test_a_position_past_the_last_fetched_high_water_mark_is_no_lag_rather_than_negative():
    assert lag_by_topic("g", [PartitionPosition("t", highwater=5, position=8)])[0].lag == 0


def test_a_consumer_with_no_partitions_assigned_reports_no_lag_rows():
    assert lag_by_topic("g", []) == []


@dataclass
class FakeConsumer:
    """aiokafka's consumer as far as lag goes: what it holds, each partition's high-water mark and position."""

    highwaters: dict[TopicPartition, int | None]
    positions: dict[TopicPartition, int]

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters[partition]

    async def position(self, partition: TopicPartition) -> int:
        return self.positions[partition]


async def test_positions_are_read_for_every_assigned_partition():
    a, b = TopicPartition("t.referrals", 0), TopicPartition("t.referrals", 1)
    consumer = FakeConsumer({a: 12, b: None}, {a: 9, b: 0})
    positions = sorted(await consumer_positions(consumer), key=lambda p: p.position)
    assert positions == [PartitionPosition("t.referrals", None, 0), PartitionPosition("t.referrals", 12, 9)]
    assert lag_by_topic("g", positions)[0].lag == 3


def _health() -> PipelineHealth:
    return PipelineHealth(
        service="triage",
        instance="triage-0",
        as_of=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
        every_seconds=20,
        outbox_waiting=3,
        outbox_parked=1,
        dead_letters_sent=2,
        dead_letters_parked=1,
        consumers=[ConsumerLag(group="signpost.triage", topic="signpost.referrals", partitions=12, lag=4)],
    )


@dataclass
class Sent:
    records: list[OutgoingRecord] = field(default_factory=list)

    async def publish(self, records: list[OutgoingRecord]) -> list[BaseException | None]:
        self.records += records
        return [None] * len(records)


def _reporter(sent: Sent, *, connected: bool) -> PipelineHealthReporter:
    async def read() -> PipelineHealth:
        return _health()

    return PipelineHealthReporter(
        read, sent.publish, topic="signpost.operations", connected=lambda: connected, every_seconds=20
    )


async def test_a_report_is_one_cloudevent_keyed_by_service_and_instance_on_the_operations_topic():
    sent = Sent()
    assert await _reporter(sent, connected=True).report() is True
    (record,) = sent.records
    assert (record.topic, record.key) == ("signpost.operations", b"triage/triage-0")
    assert record.headers["ce_type"] == "service.pipeline-health.v1"
    assert PipelineHealth.model_validate(json.loads(record.value)) == _health()


async def test_no_report_is_attempted_while_the_broker_is_not_connected():
    sent = Sent()
    assert await _reporter(sent, connected=False).report() is False
    assert sent.records == []


async def test_a_report_the_broker_refused_fails_the_run_so_the_periodic_job_logs_it():
    async def refuse(records: list[OutgoingRecord]) -> list[BaseException | None]:
        return [ConnectionError("broker went away")]

    async def read() -> PipelineHealth:
        return _health()

    reporter = PipelineHealthReporter(read, refuse, topic="t", connected=lambda: True, every_seconds=20)
    with pytest.raises(ConnectionError):
        await reporter.report()
