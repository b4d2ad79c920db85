"""Per-test isolation on shared infrastructure: unique topic namespaces and databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from signpost_contracts import all_topics
from signpost_devstack.broker import create_topics
from signpost_runtime.db import with_database

CONSUMERS = ("referral_intake", "triage", "notifications", "reporting")


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
