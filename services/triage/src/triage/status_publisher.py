"""Keeping the service's published view current: service.status.v1 (for referrers) whenever the status
changes, roster.caseloads.v1 (for operations staff) whenever any connector's caseload, capacity or
availability changes.

Every few seconds (SERVICE_STATUS_EVERY_SECONDS) each triage process takes the lock on the record of what
was last published, then reads the figures (so it never publishes figures older than another process's),
and publishes each view through the outbox only when it differs: a change is announced once, by whichever
process sees it first, within one interval. Both views come from one reading of the connectors, so the
free places referrers are told of are those the caseloads add up to. A periodic check, rather than a
check in every unit of work, keeps the cost off each referral, and a status a few seconds old is as good
as a live one to someone deciding whether to refer or to a coordinator watching caseloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Protocol

from signpost_contracts import EventEnvelope
from signpost_runtime.runtime import ServiceRuntime
from triage.adapters.caseload_events import roster_caseloads_event
from triage.adapters.events import Cause, service_status_event
from triage.domain.caseloads import Caseload
from triage.domain.policy import Policy
from triage.domain.service_status import CapacityFigures, service_status
from triage.unit import TriageUnit

log = logging.getLogger(__name__)


class StatusRecords(Protocol):
    async def caseloads(self) -> tuple[Caseload, ...]: ...

    async def figures(self, loads: Sequence[Caseload]) -> CapacityFigures: ...

    async def last_published(self) -> dict[str, Any]: ...

    async def record_published(self, published: dict[str, Any]) -> None: ...


class StatusWork(Protocol):
    @property
    def status(self) -> StatusRecords: ...

    def publish(self, *events: EventEnvelope) -> None: ...


async def publish_if_changed(unit: StatusWork, policy: Policy, cause: Cause) -> bool:
    """Publish the service status and the caseloads, each if it differs from the one last published; whether
    either was."""
    last = await unit.status.last_published()
    loads = await unit.status.caseloads()
    view = service_status(policy, await unit.status.figures(loads))
    # As JSON keeps them (lists, not tuples), so that unchanged views compare equal to the stored ones.
    status = {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(view).items()}
    listed = [asdict(load) for load in loads]
    at = datetime.now(UTC)
    events = []
    if last.get("status") != status:
        events.append(service_status_event(view, at, cause))
        log.info("service status now %s (%s free, %s waiting)", view.capacity, view.places_free, view.waiting)
    if last.get("caseloads") != listed:
        events.append(roster_caseloads_event(loads, at, cause))
        log.info("caseloads changed: %s", ", ".join(f"{c.connector_id} {c.open_cases}/{c.capacity}" for c in loads))
    if not events:
        return False
    await unit.status.record_published({"status": status, "caseloads": listed})
    unit.publish(*events)
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
