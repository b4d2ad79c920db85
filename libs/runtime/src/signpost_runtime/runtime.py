"""One bootstrap for every service: pool, migrations, broker, consumer, outbox relay, HTTP app.

Nothing connects at import time. `ServiceRuntime.lifespan` starts things in dependency order
and stops them in reverse on SIGTERM: stop taking messages, let the one in hand finish, publish
what is left in the outbox, then close the producer and the pool.

The broker is connected in the background, retried until it answers: a service starts, and intake
takes referrals into its outbox, while Kafka is still down. Stopping never raises, whatever state
the broker or the database is in: each step is bounded and its failure logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never, wait_exponential_jitter

from signpost_contracts import EventType, Stream, dead_letter_topic, topic
from signpost_contracts.events.operations import PipelineHealth
from signpost_contracts.registry import PIPELINE_HEALTH
from signpost_runtime import db, metrics
from signpost_runtime.consumer import EventConsumer, EventHandler
from signpost_runtime.dead_letters import DeadLetterSink
from signpost_runtime.housekeeping import Housekeeper
from signpost_runtime.inbox import outside_event_key
from signpost_runtime.kafka_security import broker_security
from signpost_runtime.outbox import Outbox
from signpost_runtime.pipeline_health import (
    PipelineHealthReporter,
    consumer_positions,
    dead_letters_sent,
    lag_by_topic,
    outbox_figures,
)
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.publishing import KafkaPublisher
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.relay import OutboxRelay
from signpost_runtime.settings import ServiceSettings
from signpost_runtime.unit_of_work import Unit, UnitOfWork, UnitT

log = logging.getLogger(__name__)

Hook = Callable[["ServiceRuntime"], Awaitable[None]]
HandlerFactory = Callable[["ServiceRuntime"], Mapping[str, EventHandler]]


@dataclass(frozen=True)
class ExternalTopic:
    """A topic other systems write to, read apart from the service's own streams.

    It has its own subscriber, consumer group (`<group>.<name>`) and consumer (`<service>.<name>`, the
    name its inbox rows and dead letters carry), and one handler for every record whatever its type, so
    an outside record is never dispatched to a handler of Signpost's own events. Repeats are recognised
    by CloudEvents source and id together (outside_event_key). Its dead letters go to the service's topic.
    """

    stream: Stream
    name: str
    handler: Callable[[ServiceRuntime], EventHandler]  # built at start, like `handlers`


@dataclass
class ServiceDefinition:
    settings: ServiceSettings
    migrations: Path
    consumes: Sequence[Stream] = ()
    publishes: Sequence[EventType] = ()  # what its outbox may carry; feeds the AsyncAPI document
    handlers: HandlerFactory | None = None
    # How a unit of work is built on a transaction's connection: the service's Unit subclass, which
    # carries its repositories. Event handlers receive it; HTTP routes open one through the runtime.
    unit: Callable[[asyncpg.Connection], Unit] = Unit
    on_start: Sequence[Hook] = field(default_factory=list)
    on_stop: Sequence[Hook] = field(default_factory=list)
    # A service whose requests only need its database (intake: the outbox rides out a broker outage)
    # stays ready while Kafka is down; the others cannot do their work without it.
    ready_needs_broker: bool = True
    external: Sequence[ExternalTopic] = ()

    def __post_init__(self) -> None:
        # Every service's kit reports its pipeline's health (pipeline_health.py), so every service says it sends it.
        if PIPELINE_HEALTH not in self.publishes:
            self.publishes = (*self.publishes, PIPELINE_HEALTH)


class ServiceRuntime:
    def __init__(self, definition: ServiceDefinition, broker: KafkaBroker | None = None) -> None:
        self.definition = definition
        self.settings = settings = definition.settings
        self.broker = broker or KafkaBroker(
            settings.kafka_bootstrap_servers,
            security=broker_security(settings),
            client_id=f"signpost-{settings.service_name}",
            acks="all",
            enable_idempotence=False,  # correctness rests on the inbox, never on broker idempotence
            max_request_size=settings.kafka_max_request_bytes,
            allow_auto_create_topics=False,  # topics are provisioned (devstack, Strimzi KafkaTopic)
            # Half the shutdown budget for the message in hand; the rest is for hooks and the last flush.
            graceful_timeout=settings.shutdown_grace_seconds / 2,
            logger=logging.getLogger("faststream"),
            log_level=logging.DEBUG,
        )
        self.outbox = Outbox(settings.topic_namespace)
        self.publisher = KafkaPublisher(self.broker, settings.kafka_max_request_bytes)
        self.monitor = ProgressMonitor(settings.liveness_stall_seconds)
        self.consumer_name = settings.service_name
        self._pool: asyncpg.Pool | None = None
        self._unit_of_work: UnitOfWork[Unit] | None = None
        self._broker_connection: asyncio.Task[None] | None = None
        self.broker_connected = False
        self._consumer: EventConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._housekeeper: Housekeeper | None = None
        self._health_reporter: PipelineHealthReporter | None = None
        self._subscriber = self._register_subscriber() if definition.consumes else None
        self._external_consumers: dict[str, EventConsumer] = {}
        self._external_subscribers = {
            external.name: self._subscribe_external(external) for external in definition.external
        }
        self._liveness_checks: dict[str, Callable[[], str]] = {}

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the service has not started: no database pool yet")
        return self._pool

    @property
    def unit_of_work(self) -> UnitOfWork[Unit]:
        """Opens the one transaction a use case runs in: `async with runtime.unit_of_work() as unit`."""
        if self._unit_of_work is None:
            raise RuntimeError("the service has not started: no unit of work yet")
        return self._unit_of_work

    def units(self, kind: type[UnitT]) -> UnitOfWork[UnitT]:
        """The unit of work typed as the service's own Unit subclass: `runtime.units(TriageUnit)()`."""
        if self.definition.unit is not kind:
            raise TypeError(f"this service builds {self.definition.unit!r} units, not {kind!r}")
        return cast(UnitOfWork[UnitT], self.unit_of_work)

    def _register_subscriber(self) -> Any:
        topics = [topic(stream, self.settings.topic_namespace) for stream in self.definition.consumes]
        return self._new_subscriber(topics, self.settings.consumer_group, lambda: self._consumer)

    def _subscribe_external(self, external: ExternalTopic) -> Any:
        return self._new_subscriber(
            [topic(external.stream, self.settings.topic_namespace)],
            f"{self.settings.consumer_group}.{external.name}",
            lambda: self._external_consumers.get(external.name),
        )

    def _new_subscriber(self, topics: list[str], group_id: str, consumer: Callable[[], EventConsumer | None]) -> Any:
        """A subscriber of `topics` in `group_id` whose records go, undecoded, to the consumer `consumer()`
        gives once the service has started (the stream consumer, or an external topic's own)."""
        subscriber = self.broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            max_poll_interval_ms=self.settings.kafka_max_poll_interval_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            decoder=_undecoded,
        )

        @subscriber
        async def on_record(message: KafkaMessage) -> None:
            ready = consumer()
            if ready is None:
                raise RuntimeError("message arrived before the consumer was ready")
            await ready.handle(ReceivedRecord.from_consumer_record(message.raw_message))

        return subscriber

    def _external_consumer(self, external: ExternalTopic, unit_of_work: UnitOfWork[Unit]) -> EventConsumer:
        settings = self.settings
        name = f"{self.consumer_name}.{external.name}"
        return EventConsumer(
            name=name,
            unit_of_work=unit_of_work,
            handlers={},
            every_type=external.handler(self),
            inbox_key=outside_event_key,
            dead_letters=DeadLetterSink(
                self.publisher, dead_letter_topic(self.consumer_name, settings.topic_namespace), name, self.pool
            ),
            monitor=ProgressMonitor(settings.liveness_stall_seconds),
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_retry_backoff_seconds,
        )

    async def start(self) -> None:
        settings = self.settings
        await db.ensure_database(settings.database_url)
        self._pool = await db.create_pool(settings.database_url, settings.database_pool_size)
        await db.apply_migrations(self._pool, self.definition.migrations)
        self._unit_of_work = UnitOfWork(self._pool, self.outbox, self.definition.unit)
        if self.definition.handlers is not None:
            self._consumer = EventConsumer(
                name=self.consumer_name,
                unit_of_work=self._unit_of_work,
                handlers=self.definition.handlers(self),
                dead_letters=DeadLetterSink(
                    self.publisher,
                    dead_letter_topic(self.consumer_name, settings.topic_namespace),
                    self.consumer_name,
                    self._pool,
                ),
                monitor=self.monitor,
                max_attempts=settings.consumer_max_attempts,
                backoff_seconds=settings.consumer_retry_backoff_seconds,
            )
        for external in self.definition.external:
            self._external_consumers[external.name] = self._external_consumer(external, self._unit_of_work)
        for hook in self.definition.on_start:
            await hook(self)
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
        self._health_reporter = PipelineHealthReporter(
            self.pipeline_health,
            self.publisher.publish_each,
            topic=topic(PIPELINE_HEALTH.stream, settings.topic_namespace),
            connected=lambda: self.broker_connected,
            every_seconds=settings.pipeline_health_every_seconds,
        )
        self._health_reporter.start()
        first_attempt = asyncio.Event()
        self._broker_connection = asyncio.create_task(self._connect_broker(first_attempt), name="broker-connection")
        # A broker that answers is connected before start returns; one that does not is left to the background.
        await first_attempt.wait()
        log.info("%s started%s", settings.service_name, "" if self.broker_connected else " (broker not reachable yet)")

    async def _connect_broker(self, first_attempt: asyncio.Event) -> None:
        """Start the producer and the subscriber, retrying until the broker answers."""

        async def start_afresh(state: RetryCallState) -> None:
            first_attempt.set()
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "broker unreachable (%r); retrying in %.1fs", error, state.next_action.sleep if state.next_action else 0
            )
            with contextlib.suppress(Exception):
                await self.broker.stop()  # a half-started broker would start its subscriber twice

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(
                multiplier=0.5, max=self.settings.broker_connect_backoff_max_seconds, jitter=0.5
            ),
            stop=stop_never,
            before_sleep=start_afresh,
        )
        try:
            await retrying(self.broker.start)
            self.broker_connected = True
        finally:
            first_attempt.set()
        if self._relay is not None:
            self._relay.wake()  # publish what waited in the outbox now, not at the next poll
        log.info("%s connected to the broker", self.settings.service_name)

    async def stop(self) -> None:
        """Stop within `shutdown_grace_seconds` in all, whatever each step would like; never raise.

        Every step is bounded, because each can wait on something gone (an unreachable broker, a
        hung SMTP server), and a failing step must not skip the ones after it. Whatever a step leaves
        undone is safe: unacknowledged messages are delivered again, and unpublished outbox rows are
        published at the next start.
        """
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if self._broker_connection is not None:
            steps.append(("broker connection attempts", functools.partial(_cancel, self._broker_connection)))
        if self._subscriber is not None and self.broker_connected:
            steps.append(("consumer", self._subscriber.stop))  # lets the message in hand finish first
        if self.broker_connected:
            steps += [(f"{name} consumer", sub.stop) for name, sub in self._external_subscribers.items()]
        # Background workers stop before the last outbox flush, so what they commit on the way out is published.
        steps += [(f"stop hook {hook.__name__}", functools.partial(hook, self)) for hook in self.definition.on_stop]
        if self._housekeeper is not None:
            steps.append(("housekeeping", self._housekeeper.stop))
        if self._health_reporter is not None:
            steps.append(("pipeline health reports", self._health_reporter.stop))
        if self._relay is not None:
            relay, broker_connected = self._relay, self.broker_connected

            async def stop_relay_then_flush() -> None:
                # Without a broker there is nothing to flush to: the rows wait for the next start.
                await relay.stop(flush_timeout=max(deadline - time.monotonic(), 0) if broker_connected else 0.0)

            steps.append(("outbox relay", stop_relay_then_flush))
        steps.append(("broker connection", self.broker.stop))
        for name, step in steps:
            await _bounded(name, step, deadline)
        if self._pool is not None:
            pool = self._pool
            if not await _bounded("database pool", pool.close, deadline):
                pool.terminate()
        log.info("%s stopped", self.settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def _subscribers(self) -> list[tuple[str, str, Any]]:
        """(consumer name, group, subscriber) for the stream consumer and each outside topic's."""
        group = self.settings.consumer_group
        main = [(self.consumer_name, group, self._subscriber)] if self._subscriber is not None else []
        return main + [
            (f"{self.consumer_name}.{name}", f"{group}.{name}", subscriber)
            for name, subscriber in self._external_subscribers.items()
        ]

    async def waiting_messages(self) -> int | None:
        """Records waiting on the stream consumer's assigned partitions; None when it cannot be told."""
        consumer = getattr(self._subscriber, "consumer", None)
        if consumer is None:
            return None
        try:
            lags = lag_by_topic(self.settings.consumer_group, await consumer_positions(consumer))
        except Exception:
            return None
        return sum(lag.lag for lag in lags)

    async def pipeline_health(self) -> PipelineHealth:
        """This instance's figures now: the outbox's (the service's), lag and dead letters (this instance's)."""
        figures = await outbox_figures(self.pool)
        consumers = []
        for _, group, subscriber in self._subscribers():
            consumer = getattr(subscriber, "consumer", None)
            if consumer is not None:  # not before the broker first answered
                consumers += lag_by_topic(group, await consumer_positions(consumer))
        settings = self.settings
        return PipelineHealth(
            service=settings.service_name,
            instance=settings.instance_id,
            as_of=datetime.now(UTC),
            every_seconds=settings.pipeline_health_every_seconds,
            outbox_waiting=figures.waiting,
            outbox_parked=figures.parked,
            dead_letters_sent=dead_letters_sent(name for name, _, _ in self._subscribers()),
            dead_letters_parked=figures.dead_letters_parked,
            consumers=consumers,
        )

    async def refresh_lag_metric(self) -> None:
        waiting = await self.waiting_messages()
        if waiting is not None:
            metrics.CONSUMER_LAG.labels(self.consumer_name).set(waiting)

    def add_liveness_check(self, name: str, check: Callable[[], str]) -> None:
        """Register a background worker's own check: it returns "ok" or what is wrong."""
        self._liveness_checks[name] = check

    async def liveness(self) -> dict[str, str]:
        checks = {name: check() for name, check in self._liveness_checks.items()}
        if self._subscriber is not None and self.broker_connected:
            # Before the broker first answers there is no consume loop yet; readiness reports the broker.
            tasks = getattr(self._subscriber, "tasks", [])
            if not tasks or all(task.done() for task in tasks):
                checks["consumer"] = "consume loop is not running"
            else:
                checks["consumer"] = self.monitor.problem(await self.waiting_messages()) or "ok"
        for name, subscriber in self._external_subscribers.items():
            if self.broker_connected and all(task.done() for task in getattr(subscriber, "tasks", [])):
                checks[f"{name}_consumer"] = "consume loop is not running"
            elif self.broker_connected:
                checks[f"{name}_consumer"] = self._external_consumers[name].monitor.problem(None) or "ok"
        relay_problem = self._relay.problem(self.settings.liveness_stall_seconds) if self._relay else "not started"
        checks["outbox_relay"] = relay_problem or "ok"
        return checks


def _undecoded(message: Any) -> Any:
    # The consumer reads each record itself (from_kafka). FastStream would otherwise decode the body as its
    # content-type header claims, and a body that is not what the header says (no JSON under application/json)
    # would fail there, before the consumer could dead-letter it, and be redelivered for ever.
    return message.body


async def _bounded(name: str, step: Callable[[], Awaitable[object]], deadline: float) -> bool:
    """Run one shutdown step within what is left of the budget; True when it finished cleanly."""
    try:
        await asyncio.wait_for(step(), timeout=max(deadline - time.monotonic(), 0.1))
    except TimeoutError:
        log.warning("%s overran the shutdown budget; left for redelivery or the next start", name)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled ourselves: honour it
        # A client library cancelled its own work on the way out (aiokafka's fetcher does, with the
        # broker gone); that is the step ending, not a reason to abandon the steps after it.
        log.warning("%s was cancelled inside its client library while stopping", name)
    except Exception:
        log.warning("%s failed while stopping; continuing with the rest", name, exc_info=True)
    else:
        return True
    return False


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
