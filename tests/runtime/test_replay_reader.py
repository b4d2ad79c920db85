"""The rebuild's topic reader on the real broker: everything from the first offset, no group, the true end."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition

from signpost_devstack.broker import create_topics
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.replay import MissingTopicsError, TopicReader
from signpost_runtime.settings import KafkaClientSettings
from support.infra import publish_records, unique

pytestmark = pytest.mark.integration


async def test_every_record_is_read_even_when_the_last_batch_is_larger_than_one_read(namespace):
    """One burst lands as large batches; a read takes at most 500 records, so it ends inside a batch.

    The broker's listed end offset alone (Tansu's: the last batch's start plus one) would stop there.
    """
    name = unique(f"{namespace.name}.replay")
    await create_topics(namespace.bootstrap, [name], partitions=1)
    await publish_records(namespace.bootstrap, name, [(b"k", str(n).encode(), []) for n in range(1800)])
    seen: list[int] = []

    async def apply(_: TopicPartition, records: list[ReceivedRecord]) -> None:
        seen.extend(int(record.value or b"") for record in records)

    reader = TopicReader(KafkaClientSettings(kafka_bootstrap_servers=namespace.bootstrap), [name])
    await reader.start()
    try:
        ends = await reader.read_to_end(apply)
    finally:
        await reader.stop()

    assert seen == list(range(1800))
    assert ends == {TopicPartition(name, 0): 1800}


async def test_a_missing_topic_is_named(namespace):
    kafka = KafkaClientSettings(kafka_bootstrap_servers=namespace.bootstrap)
    reader = TopicReader(kafka, [f"{namespace.name}.no-such-topic"])
    with pytest.raises(MissingTopicsError, match="no-such-topic"):
        await reader.start()
    await reader.stop()
