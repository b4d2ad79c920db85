"""The runtime's subscriber wiring, in memory with FastStream's TestKafkaBroker.

Only paths that never reach the database are exercised here (unreadable records, unknown types,
the progress monitor); the inbox and effects are proved on real infrastructure in test_plumbing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import REGISTRY

from signpost_contracts import Stream, dead_letter_topic, topic
from signpost_runtime.consumer import EventConsumer
from signpost_runtime.dead_letters import DeadLetterSink
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from signpost_runtime.settings import ServiceSettings
from support.events import referral_received

pytestmark = pytest.mark.unit


def _runtime_with_consumer(handled: list) -> ServiceRuntime:
    settings = ServiceSettings(service_name="probe", topic_namespace="unit")
    runtime = ServiceRuntime(ServiceDefinition(settings, Path(), consumes=[Stream.REFERRALS]))

    async def record(conn, event):  # pragma: no cover - must never run: it would need the database
        handled.append(event)

    runtime._consumer = EventConsumer(
        name="probe",
        unit_of_work=None,  # type: ignore[arg-type]
        handlers={"referral.received.v1": record},
        dead_letters=DeadLetterSink(runtime.publisher, dead_letter_topic("probe", "unit"), "probe", None),
        monitor=runtime.monitor,
    )
    return runtime


async def test_a_record_that_is_not_a_cloudevent_goes_whole_to_the_dead_letter_topic():
    handled: list = []
    runtime = _runtime_with_consumer(handled)
    dead: list = []

    @runtime.broker.subscriber(dead_letter_topic("probe", "unit"))
    async def capture(message: KafkaMessage) -> None:
        dead.append(message)

    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(b'{"not": "an event"}', topic(Stream.REFERRALS, "unit"), key=b"r-1")

    assert handled == []
    assert len(dead) == 1
    assert dead[0].body == b'{"not": "an event"}'
    assert dead[0].headers["dlq_original_topic"] == "unit.referrals"
    assert "missing CloudEvents header" in dead[0].headers["dlq_reason"]
    assert dead[0].raw_message.key == b"r-1"


async def test_an_event_type_nobody_handles_is_acknowledged_and_not_dead_lettered():
    runtime = _runtime_with_consumer([])
    dead: list = []

    @runtime.broker.subscriber(dead_letter_topic("probe", "unit"))
    async def capture(message: KafkaMessage) -> None:
        dead.append(message)

    event = referral_received()
    headers = {**event.headers(), "ce_type": "referral.something-new.v1"}
    labels = {"consumer": "probe", "event_type": "unregistered", "outcome": "ignored"}
    before = REGISTRY.get_sample_value("signpost_messages_handled_total", labels) or 0
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(event.value(), topic(Stream.REFERRALS, "unit"), key=event.key(), headers=headers)

    assert REGISTRY.get_sample_value("signpost_messages_handled_total", labels) == before + 1
    assert dead == []
    assert runtime.monitor.in_flight_since is None


def test_liveness_fails_when_one_message_is_in_hand_too_long():
    monitor = ProgressMonitor(stall_seconds=5)
    monitor.started()
    monitor.in_flight_since = time.monotonic() - 6
    assert "in hand" in (monitor.problem(waiting_messages=0) or "")


def test_liveness_fails_when_messages_wait_and_nothing_moves():
    monitor = ProgressMonitor(stall_seconds=5)
    monitor.last_progress = time.monotonic() - 6
    assert monitor.problem(waiting_messages=3) == "3 message(s) waiting and none handled for 6s"
    assert monitor.problem(waiting_messages=0) is None, "an idle consumer with nothing to do is alive"


def test_liveness_is_fine_while_messages_keep_being_handled():
    monitor = ProgressMonitor(stall_seconds=5)
    monitor.started()
    monitor.finished()
    assert monitor.problem(waiting_messages=100) is None
