"""Publishing records to Kafka through the FastStream broker (so TestKafkaBroker can stand in)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from faststream.kafka import KafkaBroker


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


class KafkaPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def publish_all(self, records: list[OutgoingRecord]) -> None:
        """Send every record and wait until the broker acknowledged all of them.

        Records are handed to the producer in order before any is awaited, so records with the
        same key keep their order on the partition while the batch travels in one round trip.
        """
        pending = []
        for record in records:
            result = await self.broker.publish(
                record.value, record.topic, key=record.key, headers=record.headers, no_confirm=True
            )
            if isinstance(result, asyncio.Future):
                pending.append(result)
        if pending:
            await asyncio.gather(*pending)
