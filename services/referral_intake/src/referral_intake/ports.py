"""What intake's use cases may touch: the repositories a unit of work carries, and `publish`.

The PostgreSQL repositories (adapters/) and the fakes of tests/support/fakes/intake.py both
provide these, so the use cases' rules are tested in milliseconds on the fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from referral_intake.access import ReadScope
from referral_intake.domain.case import Case
from referral_intake.domain.record_access import AccessQuery, RecordAccess, RecordKind
from referral_intake.domain.referral import (
    BusinessIdentifier,
    ReferralSubmission,
    RequestAction,
    Sender,
    StoredReferral,
)
from referral_intake.domain.search import AnyOf, TaskPosition, TaskQuery
from referral_intake.domain.task_status import ReferralProgress, TaskStatus
from signpost_contracts import EventEnvelope

# Which cases a worklist shows: `open` (assigned or in progress, not withdrawn) unless asked otherwise.
WorklistStatus = Literal["open", "assigned", "in-progress", "closed", "withdrawn", "all"]
WORKLIST_STATUSES: tuple[WorklistStatus, ...] = ("open", "assigned", "in-progress", "closed", "withdrawn", "all")


class Referrals(Protocol):
    async def insert(
        self,
        submission: ReferralSubmission,
        *,
        referral_id: str,
        task_id: str,
        now: datetime,
        request_id: str | None,
        sender: Sender | None,
        replaces_referral_id: str | None = None,
    ) -> StoredReferral: ...

    async def find_by_identifiers(
        self, requester_ods: str, identifiers: Sequence[BusinessIdentifier]
    ) -> StoredReferral | None:
        """The referral of `requester_ods` that holds any of these identifiers."""
        ...

    async def search_by_identifier(
        self, conditions: Sequence[AnyOf], scope: ReadScope, *, limit: int
    ) -> tuple[int, list[StoredReferral]]:
        """How many referrals in `scope` match every condition, and the first `limit` of them, oldest first."""
        ...

    async def claim_request(
        self, requester_ods: str, request_id: str, referral_id: str, now: datetime, action: RequestAction
    ) -> None:
        """Spend an X-Request-ID; raises AlreadyClaimedError when it was spent before."""
        ...

    async def find_by_request(self, requester_ods: str, request_id: str) -> str | None: ...

    async def get(self, referral_id: str) -> StoredReferral | None: ...

    async def get_for_update(self, referral_id: str) -> StoredReferral | None:
        """The referral, locked until the unit's transaction ends: withdrawal and case writes take turns."""
        ...

    async def get_many(self, referral_ids: Sequence[str]) -> dict[str, StoredReferral]: ...

    async def get_by_task(self, task_id: str) -> StoredReferral | None: ...

    async def withdraw(self, referral_id: str, *, status: str, now: datetime) -> StoredReferral:
        """Its next version, with ServiceRequest.status `status` (the caller holds the row lock)."""
        ...


class Progress(Protocol):
    async def load_for_update(self, referral_id: str) -> ReferralProgress: ...

    async def load(self, referral_id: str) -> ReferralProgress: ...

    async def save(self, referral_id: str, progress: ReferralProgress) -> None: ...


class Cases(Protocol):
    async def load(self, referral_id: str) -> Case | None: ...

    async def load_for_update(self, referral_id: str, *, create: bool = False) -> Case | None:
        """The case, locked until the unit's transaction ends; with `create`, an empty one when there is none."""
        ...

    async def save(self, case: Case) -> None: ...

    async def worklist(
        self, connector_id: str | None, status: WorklistStatus, *, limit: int, offset: int
    ) -> list[Case]:
        """Cases held by `connector_id` (every connector's when None), oldest assignment first."""
        ...


class TaskIndex(Protocol):
    """Each referral's Task status and the time of its latest recorded change, kept for searches."""

    async def lock(self, referral_id: str, task_id: str) -> None:
        """Its row (made when there is none), locked until the unit's transaction ends."""
        ...

    async def record(self, referral_id: str, *, status: TaskStatus, last_updated: datetime) -> None: ...

    async def last_updated(self, referral_id: str) -> datetime | None: ...

    async def search(
        self, query: TaskQuery, scope: ReadScope, *, limit: int, after: TaskPosition | None
    ) -> tuple[int, list[str]]:
        """How many Tasks in `scope` match, and the referral ids of the page after `after` (last_updated, task_id)."""
        ...

    async def unindexed(self, limit: int) -> list[str]: ...


class AccessLog(Protocol):
    """The append-only record of who was shown which referral (migration 0008)."""

    async def record(
        self, *, who: str, organisation: str | None, record: RecordKind, referral_ids: Sequence[str]
    ) -> None:
        """One row per referral, at the time of the unit's transaction."""
        ...

    async def find(self, query: AccessQuery, *, limit: int, offset: int) -> tuple[int, list[RecordAccess]]:
        """How many recorded accesses match, and the page of them, newest first."""
        ...


class IntakeWork(Protocol):
    """What a use case may touch: the referral store, the Task facts, the cases, and the events it announces."""

    @property
    def referrals(self) -> Referrals: ...

    @property
    def progress(self) -> Progress: ...

    @property
    def cases(self) -> Cases: ...

    @property
    def tasks(self) -> TaskIndex: ...

    @property
    def access_log(self) -> AccessLog: ...

    def publish(self, *events: EventEnvelope) -> None: ...
