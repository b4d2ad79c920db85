"""What intake's use cases may touch: the repositories a unit of work carries, and `publish`.

The PostgreSQL repositories (adapters/) and the fakes of tests/support/fakes/intake.py both
provide these, so the use cases' rules are tested in milliseconds on the fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from referral_intake.domain.case import Case
from referral_intake.domain.referral import ReferralSubmission, Sender, StoredReferral
from referral_intake.domain.task_status import ReferralProgress
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

    async def find_by_identifiers(self, submission: ReferralSubmission) -> StoredReferral | None: ...

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


class IntakeWork(Protocol):
    """What a use case may touch: the referral store, the Task facts, the cases, and the events it announces."""

    @property
    def referrals(self) -> Referrals: ...

    @property
    def progress(self) -> Progress: ...

    @property
    def cases(self) -> Cases: ...

    def publish(self, *events: EventEnvelope) -> None: ...
