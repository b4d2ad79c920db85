"""Reading whole topics from their first offset, outside any consumer group: the basis of a rebuild.

The reader assigns itself every partition and never joins a group or commits an offset, so the live
service's group, its offsets and its partition assignment are untouched however long a rebuild runs.

Where the end is: a partition is read to the end offset its leader reports, or to the high-water mark
a fetch response reported after the reading began, whichever is larger. Apache Kafka's ListOffsets
answers the true end; the embedded test broker (Tansu) answers the start of the last batch plus one,
short of the end when that batch holds several records. Fetch responses carry the real high-water
mark on both, so taking the larger is correct on either and relies on no broker's quirk.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition

from signpost_runtime.kafka_security import client_options
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.settings import KafkaClientSettings

log = logging.getLogger(__name__)

Apply = Callable[[TopicPartition, list[ReceivedRecord]], Awaitable[None]]


class MissingTopicsError(RuntimeError):
    """A topic to read does not exist on the broker (a wrong namespace, or topics not provisioned)."""


@dataclass
class Progress:
    """Records read against records to read, per topic, written to `out` at most every `every` seconds."""

    out: TextIO = field(default_factory=lambda: sys.stderr)
    every: float = 2.0
    read: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _last: float = 0.0

    def add(self, topic: str, count: int) -> None:
        self.read[topic] = self.read.get(topic, 0) + count
        if time.monotonic() - self._last >= self.every:
            self.report()

    def report(self, phase: str = "reading") -> None:
        self._last = now = time.monotonic()
        done = sum(self.read.values())
        rate = done / max(now - self.started, 1e-3)
        parts = ", ".join(f"{topic} {self.read.get(topic, 0)}/{total}" for topic, total in sorted(self.total.items()))
        print(f"{phase}: {parts} ({done} records, {rate:.0f}/s)", file=self.out, flush=True)


class TopicReader:
    """Every partition of `topics`, from the first offset, with no group; `read_to_end` applies each batch."""

    def __init__(self, kafka: KafkaClientSettings, topics: Iterable[str], *, fetch_max_wait_ms: int = 100) -> None:
        self.topics = list(topics)
        self.consumer = AIOKafkaConsumer(
            **client_options(kafka),
            group_id=None,  # no group: nothing is committed and the live group never sees this reader
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=fetch_max_wait_ms,
            request_timeout_ms=30_000,
        )
        self.partitions: list[TopicPartition] = []
        self.beginnings: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self.consumer.start()
        known = await self.consumer.topics()
        missing = [name for name in self.topics if name not in known]
        if missing:
            raise MissingTopicsError(f"topic(s) not on the broker: {', '.join(missing)}")
        self.partitions = [
            TopicPartition(name, number)
            for name in self.topics
            for number in sorted(self.consumer.partitions_for_topic(name) or ())
        ]
        self.consumer.assign(self.partitions)
        self.beginnings = await self.consumer.beginning_offsets(self.partitions)
        await self.consumer.seek_to_beginning(*self.partitions)

    async def stop(self) -> None:
        await self.consumer.stop()

    def totals(self, ends: dict[TopicPartition, int]) -> dict[str, int]:
        """Records from each topic's first offset to `ends`, per topic."""
        totals = dict.fromkeys(self.topics, 0)
        for tp, end in ends.items():
            totals[tp.topic] += max(end - self.beginnings.get(tp, 0), 0)
        return totals

    async def read_to_end(self, apply: Apply, progress: Progress | None = None) -> dict[TopicPartition, int]:
        """Read every partition to its end as of now, `apply` each fetched batch; return the ends reached.

        Records produced meanwhile may be read too (a batch can run past the end): a rebuild applies
        them like the rest, so reading further is harmless and reading short is not.
        """
        asked_ms = time.time() * 1000
        listed = await self.consumer.end_offsets(self.partitions)
        first_answer: dict[TopicPartition, int] = {}
        ends: dict[TopicPartition, int] = {}
        while True:
            for tp in self.partitions:
                if tp not in ends:
                    self._learn_end(tp, asked_ms, listed[tp], first_answer, ends)
            if progress is not None:
                progress.total = self.totals(
                    {tp: ends.get(tp) or self._end_so_far(tp, listed[tp]) for tp in self.partitions}
                )
            behind = [tp for tp in self.partitions if tp not in ends or await self.consumer.position(tp) < ends[tp]]
            if not behind:
                return ends
            batches = await self.consumer.getmany(*behind, timeout_ms=500, max_records=500)
            # Partitions are independent (order matters only within one), so their batches apply side by side.
            await asyncio.gather(
                *(
                    apply(tp, [ReceivedRecord.from_consumer_record(m) for m in messages])
                    for tp, messages in batches.items()
                )
            )
            if progress is not None:
                for tp, messages in batches.items():
                    progress.add(tp.topic, len(messages))

    def _end_so_far(self, tp: TopicPartition, listed: int) -> int:
        """Until a partition's end is fixed, the best known: what fetches have shown, or the broker listed."""
        return max(listed, self.consumer.highwater(tp) or 0)

    def _learn_end(
        self,
        tp: TopicPartition,
        asked_ms: float,
        listed: int,
        first_answer: dict[TopicPartition, int],
        ends: dict[TopicPartition, int],
    ) -> None:
        """Fix `tp`'s end once a fetch *sent* after `asked_ms` has answered.

        The first response processed after `asked_ms` may answer a request sent before it, its high-water
        mark counted before then. The client asks for a partition again only after handling its previous
        answer, so the next response, processed later than the first, answers a request sent after `asked_ms`.
        """
        polled = self.consumer.last_poll_timestamp(tp)
        if polled is None or polled < asked_ms:
            return
        if tp not in first_answer:
            first_answer[tp] = polled
        elif polled > first_answer[tp]:
            ends[tp] = max(listed, self.consumer.highwater(tp) or 0)
