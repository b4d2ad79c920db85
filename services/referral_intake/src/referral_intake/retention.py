"""The retention purge: a background job erasing closed cases' personal data once the policy's period is over.

It runs as a runtime PeriodicJob, as housekeeping does: wait first, then work, and a failure is logged and
tried again next time rather than stopping the service. Each batch is its own unit of work, so a long backlog commits as
it goes and never holds thousands of row locks at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from referral_intake.erasure_service import purge_closed_before
from referral_intake.unit import IntakeUnit
from signpost_runtime.periodic import PeriodicJob
from signpost_runtime.runtime import ServiceRuntime

log = logging.getLogger(__name__)

BATCH = 100


async def purge_expired(runtime: ServiceRuntime, retention: timedelta, now: datetime) -> int:
    """Erase every referral whose case closed more than `retention` before `now`, batch by batch."""
    purged = 0
    while True:
        async with runtime.units(IntakeUnit)() as unit:
            batch = await purge_closed_before(unit, now - retention, now=now, limit=BATCH)
        purged += len(batch)
        if len(batch) < BATCH:
            return purged


class RetentionPurge:
    """Started and stopped with the service (ServiceDefinition's on_start and on_stop hooks)."""

    def __init__(
        self, retention_days: float, every_seconds: float, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.retention = timedelta(days=retention_days)
        self.every_seconds = every_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self._job: PeriodicJob | None = None

    async def start(self, runtime: ServiceRuntime) -> None:
        self._job = PeriodicJob(
            "the retention purge", self.every_seconds, lambda: purge_expired(runtime, self.retention, self.clock())
        )
        self._job.start()

    async def stop(self, runtime: ServiceRuntime) -> None:
        if self._job is not None:
            await self._job.stop()
