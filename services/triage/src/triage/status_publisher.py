"""Keeping referrers' view of the service current: service.status.v1 whenever the status changes.

Every few seconds (SERVICE_STATUS_EVERY_SECONDS) each triage process compares the status now with the
one last published, under a lock on that record, and publishes it through the outbox only when it
differs: a change is announced once, by whichever process sees it first, within one interval. A
periodic check, rather than a check in every unit of work, keeps the cost off each referral, and a
status a few seconds old is as good as a live one to someone deciding whether to refer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Protocol

from signpost_contracts import EventEnvelope
from signpost_runtime.runtime import ServiceRuntime
from triage.adapters.events import Cause, service_status_event
from triage.domain.policy import Policy
from triage.domain.service_status import CapacityFigures, service_status
from triage.unit import TriageUnit

log = logging.getLogger(__name__)


class StatusRecords(Protocol):
    async def figures(self) -> CapacityFigures: ...

    async def last_published(self) -> dict[str, Any] | None: ...

    async def record_published(self, status: dict[str, Any]) -> None: ...


class StatusWork(Protocol):
    @property
    def status(self) -> StatusRecords: ...

    def publish(self, *events: EventEnvelope) -> None: ...


async def publish_if_changed(unit: StatusWork, policy: Policy, cause: Cause) -> bool:
    """Publish the service status if it differs from the one last published; whether it did."""
    view = service_status(policy, await unit.status.figures())
    # As JSON keeps it (lists, not tuples), so that an unchanged status compares equal to the stored one.
    status = {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(view).items()}
    if await unit.status.last_published() == status:
        return False
    await unit.status.record_published(status)
    unit.publish(service_status_event(view, datetime.now(UTC), cause))
    log.info("service status now %s (%s free, %s waiting)", view.capacity, view.places_free, view.waiting)
    return True


class ServiceStatusPublisher:
    """The periodic check, started and stopped with the service."""

    def __init__(self, policy: Policy, every_seconds: float) -> None:
        self.policy = policy
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self, runtime: ServiceRuntime) -> None:
        self._task = asyncio.create_task(self._run(runtime), name="service-status")

    async def stop(self, runtime: ServiceRuntime) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self, runtime: ServiceRuntime) -> bool:
        async with runtime.units(TriageUnit)() as unit:
            return await publish_if_changed(unit, self.policy, Cause(None, f"service-status-{uuid.uuid4()}"))

    async def _run(self, runtime: ServiceRuntime) -> None:
        while True:
            try:
                await self.check(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:  # an outage or a bug: said in the log, tried again next time, never fatal
                log.warning(
                    "could not check the service status; trying again in %.0fs", self.every_seconds, exc_info=True
                )
            await asyncio.sleep(self.every_seconds)
