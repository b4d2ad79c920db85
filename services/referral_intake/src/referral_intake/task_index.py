"""Keeping each referral's Task searchable: its status and the time of its latest change, in the task index.

A Task is derived on every read from its facts (domain/task_status.py). A search by status or by
_lastUpdated cannot derive every Task first, so each use case that changes a fact (a referral stored
or withdrawn, triage's facts, the case) calls `refresh_task` last in its unit of work, and the index
holds the status `task_state` gives for the facts as now committed: one derivation, stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import NamedTuple

from referral_intake import access
from referral_intake.domain.referral import StoredReferral
from referral_intake.domain.task import last_modified
from referral_intake.domain.task_status import TaskState, task_state
from referral_intake.ports import IntakeWork
from signpost_runtime.auth import Principal

BACKFILL_BATCH = 200


class TaskView(NamedTuple):
    """A Task as read: its referral, its state, and when intake last recorded a change to it (meta.lastUpdated)."""

    referral: StoredReferral
    state: TaskState
    last_updated: datetime


async def task_view(unit: IntakeWork, referral: StoredReferral, principal: Principal) -> TaskView:
    """The Task of a referral the principal may read, as it reads it."""
    progress = await unit.progress.load(referral.id)
    # The open referral a linked one follows is named only to a reader who may read that one too.
    linked = progress.linked
    visible = linked is not None and access.readable(await unit.referrals.get(linked.linked_to), principal)
    case = await unit.cases.load(referral.id)
    state = task_state(progress, case, referral.withdrawal, linked_visible=bool(visible))
    # A referral not indexed yet (stored before the index, until the start-up backfill reaches it): its facts' time.
    updated = await unit.tasks.last_updated(referral.id) or last_modified(state, referral.received_at)
    return TaskView(referral, state, updated)


async def refresh_task(unit: IntakeWork, referral_id: str, now: datetime) -> None:
    """Re-derive the referral's Task into the index; call it after the unit's last change of a fact."""
    referral = await unit.referrals.get(referral_id)
    if referral is None:
        return  # triage's facts for a referral not stored here (yet): it is indexed when it is stored
    await unit.tasks.lock(referral.id, referral.task_id)
    # Read the facts again under the lock: a concurrent change of another fact has committed by now, so the
    # last refresh of a Task always counts every fact (READ COMMITTED: each statement sees what has committed).
    current = await unit.referrals.get(referral_id)
    assert current is not None, "a stored referral is never deleted"
    state = task_state(await unit.progress.load(referral_id), await unit.cases.load(referral_id), current.withdrawal)
    await unit.tasks.record(referral_id, status=state.status, last_updated=now)


Units = Callable[[], AbstractAsyncContextManager[IntakeWork]]


async def index_unindexed(units: Units, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> int:
    """Index the referrals stored before the task index existed, in batches; how many there were."""
    done = 0
    while True:
        async with units() as unit:
            referral_ids = await unit.tasks.unindexed(BACKFILL_BATCH)
            for referral_id in referral_ids:
                await refresh_task(unit, referral_id, clock())
        done += len(referral_ids)
        if len(referral_ids) < BACKFILL_BATCH:
            return done
