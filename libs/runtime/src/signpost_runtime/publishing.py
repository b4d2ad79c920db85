"""Publishing records to Kafka through the FastStream broker (so TestKafkaBroker can stand in)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone, which FastStream sends as a null value when the record has a key
    headers: dict[str, str] = field(default_factory=dict)

    def size(self) -> int:
        """The producer's own upper estimate of this record's size, which it checks against max_request_size."""
        headers = [(name, value.encode()) for name, value in self.headers.items()]
        return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(self.key, self.value, headers))


class KafkaPublisher:
    def __init__(self, broker: KafkaBroker, max_record_bytes: int) -> None:
        self.broker = broker
        self.max_record_bytes = max_record_bytes

    def too_large(self, record: OutgoingRecord) -> str | None:
        """Why the producer would refuse this record for its size, or None when it fits."""
        size = record.size()
        if size <= self.max_record_bytes:
            return None
        return (
            f"the record is {size} bytes, over the producer's limit of {self.max_record_bytes} "
            "(KAFKA_MAX_REQUEST_BYTES; the brokers' message.max.bytes must allow it too)"
        )

    async def publish_each(self, records: list[OutgoingRecord]) -> list[BaseException | None]:
        """Send every record and wait for the broker's answer to each: None where it was acknowledged.

        Records are handed to the producer in order before any is awaited, so records with the
        same key keep their order on the partition while the batch travels in one round trip.
        """
        pending: list[asyncio.Future[object] | BaseException | None] = []
        for record in records:
            try:
                result = await self.broker.publish(
                    record.value, record.topic, key=record.key, headers=record.headers, no_confirm=True
                )
            except IncorrectState as exc:
                # Not connected yet (the broker was down at start): an outage, so the batch is retried.
                pending.append(ConnectionError(f"not connected to the broker: {exc}"))
            except Exception as exc:
                pending.append(exc)
            else:
                pending.append(result if isinstance(result, asyncio.Future) else None)
        return [await _outcome(item) for item in pending]

    async def publish_all(self, records: list[OutgoingRecord]) -> None:
        """Send every record; raise the first failure once every answer is in."""
        for failure in await self.publish_each(records):
            if failure is not None:
                raise failure


async def _outcome(item: asyncio.Future[object] | BaseException | None) -> BaseException | None:
    if not isinstance(item, asyncio.Future):
        return item
    try:
        await item
    except Exception as exc:
        return exc
    return None
