"""Dead letters: a message that cannot be processed goes, whole and with the reason, to a topic.

The original key, value and headers travel unchanged; `dlq_*` headers say where it came from,
who gave up on it, after how many attempts and why. `signpost-dlq replay` puts it back.

Those headers add bytes, so a message that only just fitted its own topic can be too large for the
dead-letter topic. Such a copy is parked in the service's outbox instead (listed and retried by
`signpost-outbox`): the message is acknowledged either way, so its partition moves on, and it is
never dropped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

import asyncpg

from signpost_runtime import metrics
from signpost_runtime.outbox import park_record
from signpost_runtime.publishing import OutgoingRecord
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.relay import RecordPublisher
from signpost_runtime.resilience import is_infrastructure_error

log = logging.getLogger(__name__)

DLQ_PREFIX = "dlq_"
REASON_LIMIT = 2000
# How the outbox names a parked dead-letter copy, so it can be told from a parked event (pipeline_health.py).
PARKED_PREFIX = "dead-letter:"


class DeadLetters(Protocol):
    """Where a consumer sends what it gives up on: the topic (DeadLetterSink), or a rebuild's list of skips."""

    topic: str

    async def send(self, record: ReceivedRecord, *, reason: str, attempts: int) -> None: ...


class DeadLetterSink:
    def __init__(self, publisher: RecordPublisher, topic: str, consumer: str, pool: asyncpg.Pool | None) -> None:
        self.publisher = publisher
        self.topic = topic
        self.consumer = consumer
        self.pool = pool  # where a copy too large for the topic is parked

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
        copy = OutgoingRecord(topic=self.topic, key=record.key, value=record.value, headers=headers)
        refusal = self.publisher.too_large(copy)
        if refusal is None:
            [failure] = await self.publisher.publish_each([copy])
            if failure is not None and is_infrastructure_error(failure):
                raise failure  # the broker is away: not acknowledged, so the message comes back
            refusal = repr(failure) if failure is not None else None
        if refusal is not None:
            await self._park(record, copy, refusal)
        metrics.DEAD_LETTERS.labels(self.consumer).inc()

    async def _park(self, record: ReceivedRecord, copy: OutgoingRecord, refusal: str) -> None:
        if self.pool is None:
            raise RuntimeError(f"dead letter refused by the broker ({refusal}) and nowhere to park it")
        name = f"{PARKED_PREFIX}{self.consumer}:{record.topic}:{record.partition}:{record.offset}"
        await park_record(self.pool, copy, record_id=name, reason=f"dead-letter copy refused: {refusal}")
        log.error("dead letter %s parked in the outbox: %s", name, refusal)
