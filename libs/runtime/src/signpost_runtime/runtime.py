"""One bootstrap for every service: pool, migrations, broker, consumer, outbox relay, HTTP app.

Nothing connects at import time. `ServiceRuntime.lifespan` starts things in dependency order
and stops them in reverse on SIGTERM: stop taking messages, let the one in hand finish, publish
what is left in the outbox, then close the producer and the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from signpost_contracts import EventType, Stream, dead_letter_topic, topic
from signpost_runtime import db, metrics
from signpost_runtime.consumer import EventConsumer, EventHandler
from signpost_runtime.dead_letters import DeadLetterSink
from signpost_runtime.housekeeping import Housekeeper
from signpost_runtime.outbox import Outbox
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.publishing import KafkaPublisher
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.relay import OutboxRelay
from signpost_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

Hook = Callable[["ServiceRuntime"], Awaitable[None]]
HandlerFactory = Callable[["ServiceRuntime"], Mapping[str, EventHandler]]


@dataclass
class ServiceDefinition:
    settings: ServiceSettings
    migrations: Path
    consumes: Sequence[Stream] = ()
    publishes: Sequence[EventType] = ()  # what its outbox may carry; feeds the AsyncAPI document
    handlers: HandlerFactory | None = None
    on_start: Sequence[Hook] = field(default_factory=list)
    on_stop: Sequence[Hook] = field(default_factory=list)
    # A service whose requests only need its database (intake: the outbox rides out a broker outage)
    # stays ready while Kafka is down; the others cannot do their work without it.
    ready_needs_broker: bool = True


class ServiceRuntime:
    def __init__(self, definition: ServiceDefinition, broker: KafkaBroker | None = None) -> None:
        self.definition = definition
        self.settings = settings = definition.settings
        self.broker = broker or KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=f"signpost-{settings.service_name}",
            acks="all",
            enable_idempotence=False,  # correctness rests on the inbox, never on broker idempotence
            allow_auto_create_topics=False,  # topics are provisioned (devstack, Strimzi KafkaTopic)
            # Half the shutdown budget for the message in hand; the rest is for hooks and the last flush.
            graceful_timeout=settings.shutdown_grace_seconds / 2,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,
        )
        self.outbox = Outbox(settings.topic_namespace)
        self.publisher = KafkaPublisher(self.broker)
        self.monitor = ProgressMonitor(settings.liveness_stall_seconds)
        self.consumer_name = settings.service_name
        self._pool: asyncpg.Pool | None = None
        self._consumer: EventConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._housekeeper: Housekeeper | None = None
        self._subscriber = self._register_subscriber() if definition.consumes else None
        self._liveness_checks: dict[str, Callable[[], str]] = {}

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the service has not started: no database pool yet")
        return self._pool

    def _register_subscriber(self) -> Any:
        topics = [topic(stream, self.settings.topic_namespace) for stream in self.definition.consumes]
        subscriber = self.broker.subscriber(
            *topics,
            group_id=self.settings.consumer_group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )

        @subscriber
        async def on_record(message: KafkaMessage) -> None:
            if self._consumer is None:
                raise RuntimeError("message arrived before the consumer was ready")
            await self._consumer.handle(ReceivedRecord.from_consumer_record(message.raw_message))

        return subscriber

    async def start(self) -> None:
        settings = self.settings
        await db.ensure_database(settings.database_url)
        self._pool = await db.create_pool(settings.database_url, settings.database_pool_size)
        await db.apply_migrations(self._pool, self.definition.migrations)
        if self.definition.handlers is not None:
            self._consumer = EventConsumer(
                name=self.consumer_name,
                pool=self._pool,
                handlers=self.definition.handlers(self),
                dead_letters=DeadLetterSink(
                    self.publisher, dead_letter_topic(self.consumer_name, settings.topic_namespace), self.consumer_name
                ),
                monitor=self.monitor,
                max_attempts=settings.consumer_max_attempts,
                backoff_seconds=settings.consumer_retry_backoff_seconds,
            )
        for hook in self.definition.on_start:
            await hook(self)
        await self.broker.start()
        self._relay = OutboxRelay(
            self._pool,
            self.publisher,
            database_url=settings.database_url,
            batch_size=settings.outbox_batch_size,
            lease_seconds=settings.outbox_lease_seconds,
            poll_seconds=settings.outbox_poll_seconds,
        )
        self._relay.start()
        self._housekeeper = Housekeeper(
            self._pool,
            outbox_retention_hours=settings.outbox_retention_hours,
            inbox_retention_days=settings.inbox_retention_days,
            every_seconds=settings.housekeeping_every_seconds,
        )
        self._housekeeper.start()
        log.info("%s started", settings.service_name)

    async def stop(self) -> None:
        """Stop within `shutdown_grace_seconds` in all, whatever each step would like.

        Every step is bounded, because each can wait on something gone (an unreachable broker, a
        hung SMTP server). Whatever a step leaves undone is safe: unacknowledged messages are
        delivered again, and unpublished outbox rows are published at the next start.
        """
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if self._subscriber is not None:
            steps.append(("consumer", self._subscriber.stop))  # lets the message in hand finish first
        # Background workers stop before the last outbox flush, so what they commit on the way out is published.
        steps += [(f"stop hook {hook.__name__}", functools.partial(hook, self)) for hook in self.definition.on_stop]
        if self._housekeeper is not None:
            steps.append(("housekeeping", self._housekeeper.stop))
        if self._relay is not None:
            relay = self._relay
            steps.append(("outbox relay", lambda: relay.stop(flush_timeout=max(deadline - time.monotonic(), 0))))
        steps.append(("broker connection", self.broker.stop))
        for name, step in steps:
            try:
                await asyncio.wait_for(step(), timeout=max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                log.warning("%s overran the shutdown budget; left for redelivery or the next start", name)
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                self._pool.terminate()
        log.info("%s stopped", self.settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def waiting_messages(self) -> int | None:
        consumer = getattr(self._subscriber, "consumer", None)
        if consumer is None:
            return None
        waiting = 0
        try:
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None:
                    continue
                position = await asyncio.wait_for(consumer.position(partition), timeout=1)
                waiting += max(highwater - position, 0)
        except Exception:
            return None
        return waiting

    async def refresh_lag_metric(self) -> None:
        waiting = await self.waiting_messages()
        if waiting is not None:
            metrics.CONSUMER_LAG.labels(self.consumer_name).set(waiting)

    def _relay_problem(self) -> str | None:
        if self._relay is None or not self._relay.running:
            return "relay is not running"
        allowed = max(self.settings.liveness_stall_seconds, self._relay.longest_healthy_cycle())
        if self._relay.stalled_for() > allowed:
            return f"no relay cycle for {self._relay.stalled_for():.0f}s (a publish or query is stuck)"
        return None

    def add_liveness_check(self, name: str, check: Callable[[], str]) -> None:
        """Register a background worker's own check: it returns "ok" or what is wrong."""
        self._liveness_checks[name] = check

    async def liveness(self) -> dict[str, str]:
        checks = {name: check() for name, check in self._liveness_checks.items()}
        if self._subscriber is not None:
            tasks = getattr(self._subscriber, "tasks", [])
            if not tasks or all(task.done() for task in tasks):
                checks["consumer"] = "consume loop is not running"
            else:
                checks["consumer"] = self.monitor.problem(await self.waiting_messages()) or "ok"
        checks["outbox_relay"] = self._relay_problem() or "ok"
        return checks
