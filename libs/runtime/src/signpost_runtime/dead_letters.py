"""Dead letters: a message that cannot be processed goes, whole and with the reason, to a topic.

The original key, value and headers travel unchanged; `dlq_*` headers say where it came from,
who gave up on it, after how many attempts and why. `signpost-dlq replay` puts it back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from signpost_runtime import metrics
from signpost_runtime.publishing import OutgoingRecord
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.relay import RecordPublisher

DLQ_PREFIX = "dlq_"
REASON_LIMIT = 2000


class DeadLetterSink:
    def __init__(self, publisher: RecordPublisher, topic: str, consumer: str) -> None:
        self.publisher = publisher
        self.topic = topic
        self.consumer = consumer

    async def send(self, record: ReceivedRecord, *, reason: str, attempts: int) -> None:
        headers = record.text_headers()
        headers.update(
            {
                "dlq_reason": reason[:REASON_LIMIT],
                "dlq_consumer": self.consumer,
                "dlq_original_topic": record.topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_attempts": str(attempts),
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        await self.publisher.publish_all(
            [OutgoingRecord(topic=self.topic, key=record.key, value=record.value or b"", headers=headers)]
        )
        metrics.DEAD_LETTERS.labels(self.consumer).inc()
