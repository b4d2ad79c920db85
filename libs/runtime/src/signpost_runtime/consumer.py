"""The consuming half of every service: envelope, inbox, retries, dead letters.

Each message is applied in one PostgreSQL transaction that first claims the event id in the inbox,
so a repeat delivery changes nothing. The offset is committed by the subscriber only after this
returns (NACK_ON_ERROR): an exception here means "not done, deliver it again".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from pydantic import ValidationError

from signpost_contracts import EnvelopeError, EventEnvelope, decode_headers, from_kafka
from signpost_runtime import metrics
from signpost_runtime.db import transaction
from signpost_runtime.dead_letters import DeadLetterSink
from signpost_runtime.inbox import claim_event
from signpost_runtime.logs import event_context
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.resilience import INFRASTRUCTURE_ERRORS

log = logging.getLogger(__name__)

EventHandler = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]


class PermanentMessageError(Exception):
    """Raised by a handler when this message can never succeed; it is dead-lettered at once."""


# Failures of the database or network, not of the message: dead-lettering would empty the
# stream into the DLQ during an outage, so the message is redelivered until they pass.
_POISON_ERRORS = (EnvelopeError, ValidationError, PermanentMessageError)


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        pool: asyncpg.Pool,
        handlers: Mapping[str, EventHandler],
        dead_letters: DeadLetterSink,
        monitor: ProgressMonitor,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
    ) -> None:
        self.name = name
        self.pool = pool
        self.handlers = dict(handlers)
        self.dead_letters = dead_letters
        self.monitor = monitor
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._outage_backoff = backoff_seconds

    async def handle(self, record: ReceivedRecord) -> None:
        self.monitor.started()
        try:
            await self._handle(record)
        finally:
            self.monitor.finished()

    async def _handle(self, record: ReceivedRecord) -> None:
        try:
            event = from_kafka(decode_headers(record.headers), record.value)
        except EnvelopeError as exc:
            log.warning("unreadable record at %s/%s@%s: %s", record.topic, record.partition, record.offset, exc)
            await self._dead_letter(record, "unknown", f"not a valid CloudEvent: {exc}", attempts=1)
            return
        handler = self.handlers.get(event.type)
        with event_context(
            event_id=event.id, event_type=event.type, correlation_id=event.correlationid, subject=event.subject
        ):
            if handler is None:
                metrics.MESSAGES_HANDLED.labels(self.name, event.type, "ignored").inc()
                return
            await self._apply_with_retries(record, event, handler)

    async def _apply_with_retries(self, record: ReceivedRecord, event: EventEnvelope, handler: EventHandler) -> None:
        last_error: BaseException | None = None
        for attempt in range(1, self.max_attempts + 1):
            started = time.perf_counter()
            try:
                outcome = await self._apply(event, handler)
            except _POISON_ERRORS as exc:
                metrics.MESSAGES_FAILED.labels(self.name, event.type).inc()
                log.warning("message can never be processed: %s", exc)
                await self._dead_letter(record, event.type, f"{type(exc).__name__}: {exc}", attempts=attempt)
                return
            except INFRASTRUCTURE_ERRORS as exc:
                metrics.MESSAGES_FAILED.labels(self.name, event.type).inc()
                log.warning("infrastructure unavailable (%s); message will be redelivered", exc)
                await asyncio.sleep(self._outage_backoff)
                self._outage_backoff = min(self._outage_backoff * 2, 5.0)
                raise
            except Exception as exc:
                metrics.MESSAGES_FAILED.labels(self.name, event.type).inc()
                log.warning("attempt %d/%d failed: %r", attempt, self.max_attempts, exc)
                last_error = exc
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                continue
            self._outage_backoff = self.backoff_seconds
            metrics.HANDLER_SECONDS.labels(self.name, event.type).observe(time.perf_counter() - started)
            metrics.MESSAGES_HANDLED.labels(self.name, event.type, outcome).inc()
            return
        reason = f"{type(last_error).__name__}: {last_error}"
        await self._dead_letter(record, event.type, f"failed {self.max_attempts} times: {reason}", self.max_attempts)

    async def _apply(self, event: EventEnvelope, handler: EventHandler) -> str:
        async with transaction(self.pool) as conn:
            if not await claim_event(conn, self.name, event):
                return "duplicate"
            await handler(conn, event)
        return "processed"

    async def _dead_letter(self, record: ReceivedRecord, event_type: str, reason: str, attempts: int) -> None:
        # If this publish fails the exception propagates: the message is nacked and redelivered,
        # never acknowledged without having gone somewhere.
        await self.dead_letters.send(record, reason=reason, attempts=attempts)
        metrics.MESSAGES_HANDLED.labels(self.name, event_type, "dead_lettered").inc()
        log.error("message dead-lettered to %s: %s", self.dead_letters.topic, reason)
