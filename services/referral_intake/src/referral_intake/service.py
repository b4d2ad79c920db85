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


class DuplicateRequestError(Exception):
    """This organisation already sent a request with this X-Request-ID; it created `referral_id`."""

    def __init__(self, request_id: str, referral_id: str) -> None:
        super().__init__(f"X-Request-ID {request_id} already created referral {referral_id}")
        self.request_id = request_id
        self.referral_id = referral_id


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
        self,
        submission: ReferralSubmission,
        principal: Principal,
        correlation_id: str | None,
        request_id: str | None = None,
    ) -> Submitted:
        """Store a new referral and announce it in one transaction.

        A repeated X-Request-ID raises DuplicateRequestError; a repeated identifier returns the first referral.
        """
        _authorise_sender(principal, submission)
        async with self.pool.acquire() as conn:
            earlier = await _earlier(conn, submission, request_id)
            if earlier is not None:
                return Submitted(earlier, created=False)
            try:
                async with conn.transaction():
                    stored = await repository.insert_referral(
                        conn,
                        submission,
                        referral_id=str(uuid.uuid4()),
                        task_id=str(uuid.uuid4()),
                        now=self.clock(),
                        request_id=request_id,
                    )
                    await self.outbox.add_event(conn, self._received(submission, stored, correlation_id))
            except repository.AlreadyClaimedError:
                # Lost a race with the same request or referral sent twice at once; the winner has committed.
                earlier = await _earlier(conn, submission, request_id)
                if earlier is None:
                    raise ReferralConflictError from None
                return Submitted(earlier, created=False)
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


def _authorise_sender(principal: Principal, submission: ReferralSubmission) -> None:
    # No exception for a token without an `ods` claim: it could otherwise send for any organisation.
    requester = submission.referrer.ods_code
    if principal.ods_code != requester:
        yours = f"is for organisation {principal.ods_code}" if principal.ods_code else "names no organisation"
        raise AuthError(
            403,
            f"your token {yours} but the referral's requester is {requester}; a token that sends referrals must "
            "carry the caller's ODS code (`ods` claim), and referrals may be sent only on behalf of that organisation",
        )


async def _earlier(
    conn: asyncpg.Connection, submission: ReferralSubmission, request_id: str | None
) -> StoredReferral | None:
    """The referral this request repeats: DuplicateRequestError for its X-Request-ID, else by identifier."""
    if request_id is not None:
        referral_id = await repository.find_by_request(conn, submission.referrer.ods_code, request_id)
        if referral_id is not None:
            raise DuplicateRequestError(request_id, referral_id)
    return await repository.find_by_identifiers(conn, submission)


def _readable(referral: StoredReferral | None, principal: Principal) -> StoredReferral | None:
    """The referral if this principal may read it. Otherwise None, exactly as for an unknown id, so that
    a read or search never tells one organisation which referral ids another holds."""
    if referral is not None and not principal.may_read_organisation(referral.requester_ods):
        log.info("refused %s a read of referral %s of another organisation", principal.subject, referral.id)
        return None
    return referral
