"""The consuming half of every service: envelope, inbox, retries, dead letters.

Each message is applied in one unit of work whose transaction first claims the event id in the
inbox, so a repeat delivery changes nothing. The offset is committed by the subscriber only after
this returns (NACK_ON_ERROR): an exception here means "not done, deliver it again".

Failures fall into three kinds, each handled once, here:
- the message can never succeed (not a CloudEvent, data that does not fit its type): dead-lettered
  at once, so it never blocks its partition;
- the infrastructure failed (`is_infrastructure_error`: database, broker, network): retried in place
  with backoff for as long as the outage lasts, and the partition waits. Dead-lettering would empty
  every partition into the dead-letter topic during an outage;
- anything else is a fault in Signpost's own code (a ValidationError raised there included): tried
  `max_attempts` times, then dead-lettered with the error, to be replayed once the code is fixed.

A handler may also refuse a well-formed message by a rule of its service (`MessageRefused`): it is
dead-lettered at once, and then the refusal's answer is applied in a unit of work of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_not_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential,
    wait_exponential_jitter,
)

from signpost_contracts import EVENT_TYPES, EnvelopeError, EventEnvelope, PayloadError, decode_headers, from_kafka
from signpost_runtime import metrics
from signpost_runtime.dead_letters import DeadLetters
from signpost_runtime.inbox import InboxKey, claim_event, signpost_event_key
from signpost_runtime.logs import event_context
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.resilience import is_infrastructure_error
from signpost_runtime.unit_of_work import Unit, UnitOfWork

log = logging.getLogger(__name__)

EventHandler = Callable[[Any, EventEnvelope], Awaitable[None]]  # (the service's Unit, the event)

# Event types outside the registry are counted under one label, so a producer cannot grow the metric.
UNREGISTERED_TYPE = "unregistered"


class MessageRefused(Exception):  # noqa: N818 (an answer, not a fault)
    """Raised by a handler for a message its service refuses (a rule, not a fault: no retry would accept it).

    Nothing the handler did is kept (its unit rolls back). The message is dead-lettered with `reason`,
    then `answer` runs in a fresh unit of work: the place to announce the refusal. Dead-lettering comes
    first, so a crash between the two repeats the dead letter rather than losing it. The refusal is not
    claimed in the inbox: a dead letter replayed once its cause is fixed (a producer added to the
    configuration) is then processed afresh, and a redelivery announces the same refusal again.
    """

    def __init__(self, reason: str, answer: EventHandler) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answer = answer


def metric_type(event_type: str) -> str:
    return event_type if event_type in EVENT_TYPES else UNREGISTERED_TYPE


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        unit_of_work: UnitOfWork[Unit],
        handlers: Mapping[str, EventHandler],
        dead_letters: DeadLetters,
        monitor: ProgressMonitor,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        outage_backoff_max_seconds: float = 30.0,
        every_type: EventHandler | None = None,
        inbox_key: InboxKey = signpost_event_key,
    ) -> None:
        self.name = name
        self.unit_of_work = unit_of_work
        self.handlers = dict(handlers)
        # A topic written outside Signpost has one handler for every record, so that a record of a type it does
        # not expect is refused by that handler rather than ignored (or taken for one of Signpost's own events).
        self.every_type = every_type
        self.inbox_key = inbox_key
        self.dead_letters = dead_letters
        self.monitor = monitor
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.outage_backoff_max_seconds = outage_backoff_max_seconds

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
            await self._dead_letter(record, UNREGISTERED_TYPE, f"not a valid CloudEvent: {exc}", attempts=1)
            return
        handler = self.every_type or self.handlers.get(event.type)
        with event_context(
            event_id=event.id, event_type=event.type, correlation_id=event.correlationid, subject=event.subject
        ):
            if handler is None:
                metrics.MESSAGES_HANDLED.labels(self.name, metric_type(event.type), "ignored").inc()
                return
            await self._apply_with_retries(record, event, handler)

    async def _apply_with_retries(self, record: ReceivedRecord, event: EventEnvelope, handler: EventHandler) -> None:
        label = metric_type(event.type)
        retrying = AsyncRetrying(
            retry=retry_if_not_exception_type((PayloadError, MessageRefused)),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds),
            before_sleep=self._failed_attempt(label),
            reraise=True,
        )
        started = time.perf_counter()
        try:
            outcome: str = await retrying(self._apply_through_outages, event, handler, label)
        except PayloadError as exc:
            metrics.MESSAGES_FAILED.labels(self.name, label).inc()
            log.warning("message can never be processed: %s", exc)
            await self._dead_letter(record, label, f"{type(exc).__name__}: {exc}", attempts=1)
            return
        except MessageRefused as refusal:
            log.warning("message refused: %s", refusal.reason)
            await self._dead_letter(record, label, f"refused: {refusal.reason}", attempts=1)
            await self._announce_refusal(event, refusal, label)
            return
        except Exception as exc:
            metrics.MESSAGES_FAILED.labels(self.name, label).inc()
            log.error("failed %d times, the last with %r", self.max_attempts, exc, exc_info=exc)
            reason = f"failed {self.max_attempts} times: {type(exc).__name__}: {exc}"
            await self._dead_letter(record, label, reason, self.max_attempts)
            return
        metrics.HANDLER_SECONDS.labels(self.name, label).observe(time.perf_counter() - started)
        metrics.MESSAGES_HANDLED.labels(self.name, label, outcome).inc()

    async def _announce_refusal(self, event: EventEnvelope, refusal: MessageRefused, label: str) -> None:
        try:
            await self._apply_through_outages(event, refusal.answer, label, claim=False)
        except Exception as exc:
            # The message is on the dead-letter topic with its reason; replaying it announces the refusal then.
            metrics.MESSAGES_FAILED.labels(self.name, label).inc()
            log.error("the refusal could not be announced: %r", exc, exc_info=exc)

    def _failed_attempt(self, label: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            metrics.MESSAGES_FAILED.labels(self.name, label).inc()
            error = state.outcome.exception() if state.outcome else None
            log.warning("attempt %d/%d failed: %r", state.attempt_number, self.max_attempts, error, exc_info=error)

        return before_sleep

    async def _apply_through_outages(
        self, event: EventEnvelope, handler: EventHandler, label: str, *, claim: bool = True
    ) -> str:
        """Apply the event, waiting out any outage of the infrastructure; other errors propagate."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_infrastructure_error),
            wait=wait_exponential_jitter(
                multiplier=self.backoff_seconds, max=self.outage_backoff_max_seconds, jitter=self.backoff_seconds
            ),
            stop=stop_never,
            before_sleep=self._waiting_out_an_outage(label),
            reraise=True,
        )
        try:
            return await retrying(self._apply, event, handler, claim)
        finally:
            self.monitor.outage_over()

    def _waiting_out_an_outage(self, label: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            metrics.MESSAGES_FAILED.labels(self.name, label).inc()
            self.monitor.waiting_out_outage()
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            log.warning("infrastructure unavailable (%r); the partition waits, retrying in %.1fs", error, delay)

        return before_sleep

    async def _apply(self, event: EventEnvelope, handler: EventHandler, claim: bool) -> str:
        async with self.unit_of_work() as unit:
            if claim and not await claim_event(unit.connection, self.name, event, self.inbox_key):
                return "duplicate"
            await handler(unit, event)
        return "processed"

    async def _dead_letter(self, record: ReceivedRecord, event_type: str, reason: str, attempts: int) -> None:
        # If this fails the exception propagates: the message is nacked and redelivered, never
        # acknowledged without having gone somewhere.
        await self.dead_letters.send(record, reason=reason, attempts=attempts)
        metrics.MESSAGES_HANDLED.labels(self.name, event_type, "dead_lettered").inc()
        log.error("message dead-lettered to %s: %s", self.dead_letters.topic, reason)
