"""A background loop that claims leased rows, works them, and sleeps until NOTIFY or its poll.

The outbox relay and the notifications dispatcher are both this loop; they differ only in what one
cycle does, how their leases are released and how long to wait after a quiet cycle.

After a failed cycle nothing is in flight, yet a claim may have committed without our hearing back
(a database restart at the wrong moment). The next cycle therefore first releases every lease this
worker holds, instead of leaving those rows until their leases run out.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
import uuid

import asyncpg

from signpost_runtime.wakeup import NotifyWakeup

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


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
        self.owner = uuid.uuid4().hex  # recorded on every lease this worker takes
        self.last_cycle_at = time.monotonic()
        self._wakeup = NotifyWakeup(database_url, channel)
        self._stopping = False
        self._may_hold_leases = False
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

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Finish the cycle in hand, then stop; unworked rows stay for the next start."""
        self._stopping = True
        self._wakeup.wake()
        if self._task is not None:
            await self._task
        await self._wakeup.close()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def stalled_for(self) -> float:
        """Seconds since the loop last began a cycle: large when work or a query hangs."""
        return time.monotonic() - self.last_cycle_at

    async def _run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            self.last_cycle_at = time.monotonic()
            try:
                await self._wakeup.ensure_listening()
                self._wakeup.clear()
                if self._may_hold_leases:
                    await self.release_own_leases()
                    self._may_hold_leases = False
                worked = await self.work_once()
                backoff = self.poll_seconds
                if worked == self.batch_size:
                    continue  # more may be waiting; go straight on
                wait = await self.wait_after(worked)
            except Exception:
                self._may_hold_leases = True
                log.exception("%s cycle failed; retrying in %.1fs", self.name, backoff)
                await self._wakeup.close()
                wait, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
            await self._wakeup.wait(wait)
