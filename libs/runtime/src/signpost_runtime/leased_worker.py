"""A background loop that claims leased rows, works them, and sleeps until NOTIFY or its poll.

The outbox relay and the notifications dispatcher are both this loop; they differ only in what one
cycle does, how their leases are released and how long to wait after a quiet cycle.

A failed cycle is retried with exponential backoff (tenacity), interrupted at once by `stop`. After a
failed cycle nothing is in flight, yet a claim may have committed without our hearing back (a
database restart at the wrong moment). The next attempt therefore first releases every lease this
worker holds, instead of leaving those rows until their leases run out.

Liveness has one rule for every leased worker (`problem`): it is dead when no cycle has begun for
longer than a healthy cycle can take, unless it is waiting out an outage (`riding_out_outage`), which
a restart would not cure.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator

import asyncpg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from signpost_runtime.wakeup import NotifyWakeup

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
# Work on claimed rows must finish well inside the lease, or another worker could claim them meanwhile.
WORK_DEADLINE_SHARE_OF_LEASE = 0.75


class LeasedWorker(abc.ABC):
    name = "leased-worker"

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        database_url: str,
        channel: str,
        batch_size: int,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.pool = pool
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.work_deadline = lease_seconds * WORK_DEADLINE_SHARE_OF_LEASE
        self.owner = uuid.uuid4().hex  # recorded on every lease this worker takes
        self.last_cycle_at = time.monotonic()
        self._wakeup = NotifyWakeup(database_url, channel)
        self._stopping = asyncio.Event()
        self._may_hold_leases = False
        self._outage_waits = 0
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def work_once(self) -> int:
        """Claim and work one batch; returns how many rows it worked."""

    @abc.abstractmethod
    async def release_own_leases(self) -> None:
        """Free every row still leased by `self.owner` (called only when nothing is in flight)."""

    async def wait_after(self, worked: int) -> float:
        """Seconds to sleep after a cycle that worked fewer rows than a full batch."""
        return self.poll_seconds

    def longest_healthy_cycle(self) -> float:
        """The longest a healthy cycle can take: its bounded work, then the longest back-off wait."""
        return self.work_deadline + MAX_BACKOFF_SECONDS

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Finish the cycle in hand, then stop; unworked rows stay for the next start."""
        self._stopping.set()
        self._wakeup.wake()
        if self._task is not None:
            await self._task
        await self._wakeup.close()

    def wake(self) -> None:
        """Start the next cycle now (e.g. the broker is back), without waiting for the poll."""
        self._wakeup.wake()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def stalled_for(self) -> float:
        """Seconds since the loop last began a cycle: large when work or a query hangs."""
        return time.monotonic() - self.last_cycle_at

    def problem(self, stall_seconds: float) -> str | None:
        """Why this worker looks dead, or None when it is healthy."""
        if not self.running:
            return f"{self.name} is not running"
        if self._outage_waits:
            return None
        allowed = max(stall_seconds, self.longest_healthy_cycle())
        if self.stalled_for() > allowed:
            return f"no {self.name} cycle for {self.stalled_for():.0f}s (its work or a query is stuck)"
        return None

    @contextlib.contextmanager
    def riding_out_outage(self) -> Iterator[None]:
        """Mark a wait on the infrastructure (e.g. recording a finished send): alive, not stuck."""
        self._outage_waits += 1
        try:
            yield
        finally:
            self._outage_waits -= 1
            self.last_cycle_at = time.monotonic()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential_jitter(
                    multiplier=self.poll_seconds, max=MAX_BACKOFF_SECONDS, jitter=self.poll_seconds
                ),
                stop=lambda _: self._stopping.is_set(),
                sleep=self._sleep_unless_stopped,
                before_sleep=self._cycle_failed,
                reraise=True,
            )
            try:
                worked: int = await retrying(self._cycle)
            except Exception:
                return  # stopping, and the last attempt failed: nothing is in flight
            if worked == self.batch_size:
                continue  # more may be waiting; go straight on
            await self._wakeup.wait(await self._quiet_wait(worked))

    async def _cycle(self) -> int:
        self.last_cycle_at = time.monotonic()
        await self._wakeup.ensure_listening()
        self._wakeup.clear()
        if self._may_hold_leases:
            await self.release_own_leases()
            self._may_hold_leases = False
        return await self.work_once()

    async def _quiet_wait(self, worked: int) -> float:
        try:
            return await self.wait_after(worked)
        except Exception:
            log.exception("%s could not tell when work is next due; polling", self.name)
            return self.poll_seconds

    def _cycle_failed(self, state: RetryCallState) -> None:
        self._may_hold_leases = True
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.error("%s cycle failed; retrying in %.1fs", self.name, delay, exc_info=error)

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        await self._wakeup.close()  # the listening connection may be what failed; reopened next cycle
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        self.last_cycle_at = time.monotonic()
