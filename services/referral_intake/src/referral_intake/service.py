"""Use cases of the front door: take a referral in, read it back, follow its Task.

Each runs inside the unit of work its edge opened (an HTTP route, or the consumer for triage's
events) and sees only the repositories the unit carries and `publish`; tests pass a fake unit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from referral_intake.adapters import events
from referral_intake.domain.referral import ReferralSubmission, Sender, StoredReferral, accepted
from referral_intake.domain.task_status import ReferralProgress, TaskState, task_state
from signpost_contracts import EventEnvelope
from signpost_runtime.auth import AuthError, Principal

log = logging.getLogger(__name__)


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
    ) -> StoredReferral: ...

    async def find_by_identifiers(self, submission: ReferralSubmission) -> StoredReferral | None: ...

    async def find_by_request(self, requester_ods: str, request_id: str) -> str | None: ...

    async def get(self, referral_id: str) -> StoredReferral | None: ...

    async def get_by_task(self, task_id: str) -> StoredReferral | None: ...


class Progress(Protocol):
    async def load_for_update(self, referral_id: str) -> ReferralProgress: ...

    async def load(self, referral_id: str) -> ReferralProgress: ...

    async def save(self, referral_id: str, progress: ReferralProgress) -> None: ...


class IntakeWork(Protocol):
    """What a use case may touch: the referral store, the Task facts, and the events it announces."""

    @property
    def referrals(self) -> Referrals: ...

    @property
    def progress(self) -> Progress: ...

    def publish(self, *events: EventEnvelope) -> None: ...


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
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

    async def submit(
        self,
        unit: IntakeWork,
        submission: ReferralSubmission,
        principal: Principal,
        correlation_id: str | None,
        request_id: str | None = None,
    ) -> Submitted:
        """Store a new referral and announce it, in the unit's one transaction.

        A repeated X-Request-ID raises DuplicateRequestError; a repeated identifier returns the first
        referral. Raises AlreadyClaimedError when a concurrent request claimed the same key first: the
        unit must then roll back, and `resolve_race` in a new unit finds what the winner stored.
        """
        _authorise_sender(principal, submission)
        earlier = await _earlier(unit, submission, request_id)
        if earlier is not None:
            return Submitted(earlier, created=False)
        stored = await unit.referrals.insert(
            submission,
            referral_id=str(uuid.uuid4()),
            task_id=str(uuid.uuid4()),
            now=self.clock(),
            request_id=request_id,
            sender=_sender(principal, submission),
        )
        unit.publish(events.referral_received(accepted(submission, stored), correlation_id or stored.id))
        log.info("referral %s received from %s", stored.id, stored.requester_ods)
        return Submitted(stored, created=True)

    async def resolve_race(self, unit: IntakeWork, submission: ReferralSubmission, request_id: str | None) -> Submitted:
        """After losing a race with the same request or referral sent twice at once: the winner's referral."""
        earlier = await _earlier(unit, submission, request_id)
        if earlier is None:
            raise ReferralConflictError
        return Submitted(earlier, created=False)

    async def referral(self, unit: IntakeWork, referral_id: str, principal: Principal) -> StoredReferral | None:
        return _readable(await unit.referrals.get(referral_id), principal)

    async def task_for_referral(
        self, unit: IntakeWork, referral_id: str, principal: Principal
    ) -> tuple[StoredReferral, TaskState] | None:
        referral = _readable(await unit.referrals.get(referral_id), principal)
        return (referral, task_state(await unit.progress.load(referral.id))) if referral else None

    async def task(
        self, unit: IntakeWork, task_id: str, principal: Principal
    ) -> tuple[StoredReferral, TaskState] | None:
        referral = _readable(await unit.referrals.get_by_task(task_id), principal)
        return (referral, task_state(await unit.progress.load(referral.id))) if referral else None

    async def record_triage(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = events.triage_fact(event)
        await _merge(unit, referral_id, lambda progress: progress.with_triage(fact))

    async def record_assignment(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = events.assignment_fact(event)
        await _merge(unit, referral_id, lambda progress: progress.with_assignment(fact))

    async def record_waitlist(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = events.waitlist_fact(event)
        await _merge(unit, referral_id, lambda progress: progress.with_waitlist(fact))


async def _merge(unit: IntakeWork, referral_id: str, change: Callable[[ReferralProgress], ReferralProgress]) -> None:
    progress = await unit.progress.load_for_update(referral_id)
    await unit.progress.save(referral_id, change(progress))


def _authorise_sender(principal: Principal, submission: ReferralSubmission) -> None:
    requester = submission.referrer.ods_code
    if principal.may_send_for(requester):
        return
    if principal.is_intermediary:
        raise AuthError(
            403,
            f"your token may send referrals for {', '.join(sorted(principal.on_behalf_of or ()))} only (its "
            f"`ods_on_behalf` claim), but the referral's requester is {requester}; ask for {requester} to be added",
        )
    yours = f"is for organisation {principal.ods_code}" if principal.ods_code else "names no organisation"
    raise AuthError(
        403,
        f"your token {yours} but the referral's requester is {requester}; a token that sends referrals must carry "
        "the caller's ODS code (`ods` claim) and may send only for that organisation, unless it is an integration "
        "engine's with the referrals:write-on-behalf scope",
    )


def _sender(principal: Principal, submission: ReferralSubmission) -> Sender | None:
    """The sending system, recorded when it is not the requester sending for itself."""
    if principal.ods_code == submission.referrer.ods_code and not principal.is_intermediary:
        return None
    return Sender(system=principal.subject, ods_code=principal.ods_code)


async def _earlier(unit: IntakeWork, submission: ReferralSubmission, request_id: str | None) -> StoredReferral | None:
    """The referral this request repeats: DuplicateRequestError for its X-Request-ID, else by identifier."""
    if request_id is not None:
        referral_id = await unit.referrals.find_by_request(submission.referrer.ods_code, request_id)
        if referral_id is not None:
            raise DuplicateRequestError(request_id, referral_id)
    return await unit.referrals.find_by_identifiers(submission)


def _readable(referral: StoredReferral | None, principal: Principal) -> StoredReferral | None:
    """The referral if this principal may read it. Otherwise None, exactly as for an unknown id, so that
    a read or search never tells one organisation which referral ids another holds."""
    if referral is not None and not _may_read(principal, referral):
        log.info("refused %s a read of referral %s of another organisation", principal.subject, referral.id)
        return None
    return referral


def _may_read(principal: Principal, referral: StoredReferral) -> bool:
    # An integration engine follows the referrals it sent, whichever organisation they were for.
    sent_by_it = (
        referral.sender is not None and principal.is_intermediary and referral.sender.system == principal.subject
    )
    return sent_by_it or principal.may_read_organisation(referral.requester_ods)
