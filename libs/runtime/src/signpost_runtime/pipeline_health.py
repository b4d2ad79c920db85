"""Every service's pipeline health, read and published by the kit for each (service.pipeline-health.v1).

Reporting cannot read another service's database, so each instance tells it, every
PIPELINE_HEALTH_EVERY_SECONDS, what waits in its outbox, what it parked, what it dead-lettered and how far
each of its consumer groups is behind. The report is published straight to the broker, not through the
outbox: it is a snapshot the next one replaces, and written to the outbox it would count itself among the rows
waiting and pile up stale copies behind an outage. With the broker away, no report is sent, which is what tells
reporting the service is not well (its last report goes stale).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from prometheus_client import REGISTRY

from signpost_contracts import new_event
from signpost_contracts.events.operations import ConsumerLag, PipelineHealth
from signpost_runtime.dead_letters import PARKED_PREFIX
from signpost_runtime.periodic import PeriodicJob
from signpost_runtime.publishing import OutgoingRecord

log = logging.getLogger(__name__)

# One query, so the three figures are of one moment; parked rows that were retried and sent are not parked.
_OUTBOX_FIGURES = """
SELECT count(*) FILTER (WHERE parked_at IS NULL) AS waiting,
       count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
       count(*) FILTER (WHERE parked_at IS NOT NULL AND starts_with(event_id, $1)) AS dead_letters_parked
FROM outbox WHERE sent_at IS NULL
"""


@dataclass(frozen=True)
class OutboxFigures:
    waiting: int
    parked: int
    dead_letters_parked: int


async def outbox_figures(pool: asyncpg.Pool) -> OutboxFigures:
    row = await pool.fetchrow(_OUTBOX_FIGURES, PARKED_PREFIX)
    return OutboxFigures(row["waiting"], row["parked"], row["dead_letters_parked"])


def dead_letters_sent(consumers: Iterable[str]) -> int:
    """Dead letters these consumers sent since the process started, from the counter /metrics shows."""
    counts = (REGISTRY.get_sample_value("signpost_dead_letters_total", {"consumer": name}) for name in consumers)
    return int(sum(count or 0 for count in counts))


@dataclass(frozen=True)
class PartitionPosition:
    topic: str
    highwater: int | None  # None until the consumer's first fetch from the partition has told it
    position: int


def lag_by_topic(group: str, positions: Iterable[PartitionPosition]) -> list[ConsumerLag]:
    """Records waiting per topic: high-water mark minus position, summed over the partitions held.

    A partition whose high-water mark is not known yet adds nothing rather than a guess; a position past the
    high-water mark (the mark is from the previous fetch) counts as nothing waiting, never as negative.
    """
    partitions: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for p in positions:
        partitions[p.topic] = partitions.get(p.topic, 0) + 1
        waiting[p.topic] = waiting.get(p.topic, 0) + (0 if p.highwater is None else max(p.highwater - p.position, 0))
    return [ConsumerLag(group=group, topic=t, partitions=partitions[t], lag=waiting[t]) for t in sorted(partitions)]


class AssignedConsumer(Protocol):
    """The parts of aiokafka's AIOKafkaConsumer read here."""

    def assignment(self) -> Any: ...

    def highwater(self, partition: Any) -> int | None: ...

    async def position(self, partition: Any) -> int: ...


async def consumer_positions(consumer: AssignedConsumer, timeout: float = 1.0) -> list[PartitionPosition]:
    """Where the consumer stands on each partition assigned to it (none before the group has assigned any)."""
    positions = []
    for partition in consumer.assignment():
        position = await asyncio.wait_for(consumer.position(partition), timeout=timeout)
        positions.append(PartitionPosition(partition.topic, consumer.highwater(partition), position))
    return positions


class PipelineHealthReporter(PeriodicJob):
    """Reads the figures and publishes them every `every_seconds`, while the broker is connected."""

    def __init__(
        self,
        read: Callable[[], Awaitable[PipelineHealth]],
        publish: Callable[[list[OutgoingRecord]], Awaitable[list[BaseException | None]]],
        *,
        topic: str,
        connected: Callable[[], bool],
        every_seconds: float,
    ) -> None:
        super().__init__("pipeline-health", every_seconds, self.report)
        self.read = read
        self.publish = publish
        self.topic = topic
        self.connected = connected

    async def report(self) -> bool:
        """Publish one report; False when the broker is not connected (nothing to send it to)."""
        if not self.connected():
            return False
        health = await self.read()
        event = new_event(health, subject=f"{health.service}/{health.instance}", correlation_id=str(uuid.uuid4()))
        # Keyed by service and instance: one instance's reports stay in order on one partition.
        record = OutgoingRecord(self.topic, event.subject.encode(), event.value(), event.headers())
        [failure] = await self.publish([record])
        if failure is not None:
            raise failure
        return True
