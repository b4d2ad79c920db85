"""Riding out an outage of the database, the broker or the network.

One rule, `is_infrastructure_error`, says which failures belong to the infrastructure rather than to
the message or the request: the consumer retries those in place while its partition waits (it never
dead-letters them), and every HTTP edge answers them 503 with Retry-After (never 500). Recording an
external side effect that has already happened (a batch published, an email sent) is retried through
such an outage by `record_through_outage`: giving up would leave it looking undone, and it would be
done again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka import errors as kafka_errors
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    stop_never,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL failures that say nothing about the statement: the server is unreachable, restarting,
# out of disk or memory (class 53), shedding load (class 57: admin shutdown, statement timeout 57014),
# failing underneath (class 58), read-only (a standby after failover, 25006), or it rolled the
# transaction back to break a deadlock or serialisation conflict (class 40), which succeeds when retried.
_DATABASE_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.InterfaceError,  # the client's connection was closed under it
    # asyncpg's protocol left in a broken state by a connection dying mid-statement (seen in a database
    # restart under load: "cannot switch to state 15; another operation is in progress"); a fresh
    # connection from the pool succeeds.
    asyncpg.InternalClientError,
    asyncpg.InsufficientResourcesError,  # class 53
    asyncpg.TransactionRollbackError,  # class 40
    asyncpg.OperatorInterventionError,  # class 57
    asyncpg.PostgresSystemError,  # class 58
    asyncpg.ReadOnlySQLTransactionError,  # 25006
    asyncpg.IdleInTransactionSessionTimeoutError,  # 25P03
    asyncpg.LockNotAvailableError,  # 55P03, lock_timeout
)
_NETWORK_OUTAGES: tuple[type[BaseException], ...] = (OSError, TimeoutError)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when `exc` is the database, the broker or the network failing, not the work being done."""
    if isinstance(exc, _DATABASE_OUTAGES + _NETWORK_OUTAGES):
        return True
    if isinstance(exc, kafka_errors.KafkaError):
        # aiokafka marks what a retry can cure (leader moves, timeouts, lost connections) as retriable;
        # KafkaConnectionError and KafkaTimeoutError are the client-side cases of the same thing.
        return bool(exc.retriable) or isinstance(
            exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError
        )
    return False


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("cannot record %s yet (%r); retry %d in %.1fs", what, error, state.attempt_number, delay)

    return before_sleep


async def record_through_outage(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    give_up_after: float | None = 60.0,
    retry_on: Callable[[BaseException], bool] = is_infrastructure_error,
) -> T:
    """Run `operation`, retrying while `retry_on(error)` holds (an outage, by default).

    `give_up_after` bounds the retrying in seconds; None retries until it succeeds or the task is
    cancelled, for a side effect that must never look undone.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(retry_on),
        wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.1),
        stop=stop_never if give_up_after is None else stop_after_delay(give_up_after),
        before_sleep=_log_retry(what),
        reraise=True,
    )

    async def attempt() -> T:
        # tenacity awaits only what it recognises as a coroutine function; a lambda returning an
        # awaitable would be called and its coroutine dropped.
        return await operation()

    return await retrying(attempt)
