"""Use cases of the front door: take a referral in, read it back, follow its Task."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from referral_intake.adapters import events, progress_store, repository
from referral_intake.domain.referral import ReferralSubmission, StoredReferral, accepted
from referral_intake.domain.task_status import ReferralProgress, TaskState, task_state
from signpost_contracts import EventEnvelope
from signpost_runtime.auth import AuthError, Principal
from signpost_runtime.outbox import Outbox

log = logging.getLogger(__name__)


class ReferralConflictError(Exception):
    """The identifier was claimed by a request that then vanished; the sender should retry."""


@dataclass(frozen=True)
class Submitted:
    referral: StoredReferral
    created: bool


class IntakeService:
    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, clock: Callable[[], datetime] | None = None) -> None:
        self.pool = pool
        self.outbox = outbox
        self.clock = clock or (lambda: datetime.now(UTC))

    async def submit(
        self, submission: ReferralSubmission, principal: Principal, correlation_id: str | None
    ) -> Submitted:
        """Store a new referral and announce it in one transaction; a repeated identifier returns the first."""
        if principal.ods_code and principal.ods_code != submission.referrer.ods_code:
            raise AuthError(
                403,
                f"your token is for organisation {principal.ods_code} but the referral's requester is "
                f"{submission.referrer.ods_code}; send referrals only on behalf of your own organisation",
            )
        async with self.pool.acquire() as conn:
            existing = await repository.find_by_identifiers(conn, submission)
            if existing is not None:
                return Submitted(existing, created=False)
            referral_id = str(uuid.uuid4())
            try:
                async with conn.transaction():
                    stored = await repository.insert_referral(
                        conn, submission, referral_id=referral_id, task_id=str(uuid.uuid4()), now=self.clock()
                    )
                    await self.outbox.add_event(conn, self._received(submission, stored, correlation_id))
            except repository.DuplicateIdentifierError:
                # Lost a race with the same referral sent twice at once; the winner has committed.
                existing = await repository.find_by_identifiers(conn, submission)
                if existing is None:
                    raise ReferralConflictError from None
                return Submitted(existing, created=False)
        log.info("referral %s received from %s", stored.id, stored.requester_ods)
        return Submitted(stored, created=True)

    async def referral(self, referral_id: str, principal: Principal) -> StoredReferral | None:
        referral = await repository.get_referral(self.pool, referral_id)
        return _readable(referral, principal)

    async def task_for_referral(
        self, referral_id: str, principal: Principal
    ) -> tuple[StoredReferral, TaskState] | None:
        referral = _readable(await repository.get_referral(self.pool, referral_id), principal)
        return (referral, await self._state(referral.id)) if referral else None

    async def task(self, task_id: str, principal: Principal) -> tuple[StoredReferral, TaskState] | None:
        referral = _readable(await repository.get_referral_by_task(self.pool, task_id), principal)
        return (referral, await self._state(referral.id)) if referral else None

    async def record_triage(self, conn: asyncpg.Connection, event: EventEnvelope) -> None:
        referral_id, fact = events.triage_fact(event)
        await self._merge(conn, referral_id, lambda progress: progress.with_triage(fact))

    async def record_assignment(self, conn: asyncpg.Connection, event: EventEnvelope) -> None:
        referral_id, fact = events.assignment_fact(event)
        await self._merge(conn, referral_id, lambda progress: progress.with_assignment(fact))

    async def record_waitlist(self, conn: asyncpg.Connection, event: EventEnvelope) -> None:
        referral_id, fact = events.waitlist_fact(event)
        await self._merge(conn, referral_id, lambda progress: progress.with_waitlist(fact))

    async def _merge(
        self, conn: asyncpg.Connection, referral_id: str, change: Callable[[ReferralProgress], ReferralProgress]
    ) -> None:
        progress = await progress_store.load_for_update(conn, referral_id)
        await progress_store.save(conn, referral_id, change(progress))

    async def _state(self, referral_id: str) -> TaskState:
        return task_state(await progress_store.load(self.pool, referral_id))

    def _received(
        self, submission: ReferralSubmission, stored: StoredReferral, correlation_id: str | None
    ) -> EventEnvelope:
        return events.referral_received(accepted(submission, stored), correlation_id or stored.id)


def _readable(referral: StoredReferral | None, principal: Principal) -> StoredReferral | None:
    if referral is not None and not principal.may_read_organisation(referral.requester_ods):
        raise AuthError(
            403,
            f"this referral was sent by organisation {referral.requester_ods}; your token "
            f"({principal.ods_code or 'no organisation'}) may read only its own organisation's referrals",
        )
    return referral
