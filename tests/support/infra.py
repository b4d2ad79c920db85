"""Per-test isolation on shared infrastructure: unique topic namespaces and databases."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from signpost_contracts import EVENT_TYPES, EventEnvelope, all_topics, topic
from signpost_contracts.registry import SERVICE_SUBJECT
from signpost_contracts.vocabulary import SERVICES
from signpost_devstack.broker import create_topics
from signpost_runtime.db import with_database

CONSUMERS = SERVICES


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class Namespace:
    """A private set of Signpost topics on the shared broker."""

    name: str
    bootstrap: str

    async def create(self, partitions: int = 3) -> None:
        await create_topics(self.bootstrap, all_topics(self.name, CONSUMERS), partitions=partitions)


async def new_database(server_url: str, prefix: str = "t") -> str:
    name = unique(prefix)
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(server_url, name)


Headers = list[tuple[str, bytes]]
Record = tuple[bytes | None, bytes, Headers]  # key, value, headers: what a producer sends


def as_record(event: EventEnvelope) -> Record:
    """The CloudEvents binary-mode record for an envelope: keyed by referral id, attributes as ce_* headers."""
    return event.key(), event.value(), [(name, value.encode()) for name, value in event.headers().items()]


async def publish(namespace: Namespace, events: Iterable[EventEnvelope], *, partition: int | None = None) -> list[int]:
    """Send each event to its stream's topic in `namespace`, as its producing service would.

    Returns the partition each record landed on; `partition` forces one (otherwise the key decides).
    """
    sends = [(topic(EVENT_TYPES[event.type].stream, namespace.name), as_record(event)) for event in events]
    return await _send(namespace.bootstrap, sends, partition)


async def publish_records(
    bootstrap: str, topic_name: str, records: Iterable[Record], *, partition: int | None = None
) -> None:
    """Send raw records, well-formed or not, to one topic; `partition` forces one (otherwise the key decides)."""
    await _send(bootstrap, [(topic_name, record) for record in records], partition)


async def _send(bootstrap: str, sends: list[tuple[str, Record]], partition: int | None) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        # Queued together, as a service's burst would be, then every acknowledgement awaited. aiokafka keeps
        # one batch in flight per partition, so each partition receives its records in the order given.
        acks = [
            await producer.send(topic_name, value, key=key, headers=headers, partition=partition)
            for topic_name, (key, value, headers) in sends
        ]
        return [(await ack).partition for ack in acks]
    finally:
        await producer.stop()


def about_referrals(records: list) -> list:
    """The records keyed by a referral: all but the service's status (service.status.v1, keyed "service")."""
    return [record for record in records if record.key != SERVICE_SUBJECT.encode()]


async def read_topic(
    bootstrap: str, topic: str, *, expect: int = 0, until: Callable[[list], bool] | None = None, timeout: float = 20.0
) -> list:
    """Read a topic from the beginning until `expect` records arrived and `until(records)` holds, or the timeout."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (len(records) < expect or (until and not until(records))) and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                records.extend(messages)
        return records
    finally:
        await consumer.stop()


async def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """Poll an async predicate until it returns something truthy; fail with `message` on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


@contextlib.contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A directory for a server that runs as another user, outside pytest's own temporary root.

    As root, PostgreSQL runs as an unprivileged user, who must be able to enter every parent
    directory. pytest makes its root (/tmp/pytest-of-<user>) private again whenever another pytest
    session starts on the machine, which would lock a running server out of its data mid-test.
    """
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
