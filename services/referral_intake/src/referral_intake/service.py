"""Use cases of the front door: take a referral in, read it back, follow its Task, let its referrer withdraw it.

Each runs inside the unit of work its edge opened (an HTTP route, or the consumer for triage's
events) and sees only the repositories the unit carries and `publish` (ports.py); tests pass a
fake unit. The case's use cases are in case_service.py, triage's events in triage_facts.py.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from referral_intake import access, audit
from referral_intake.adapters import events
from referral_intake.adapters.deprivation import DeprivationLookup
from referral_intake.domain.case_events import ReferralWithdrawn
from referral_intake.domain.partner import PartnerRegister, UnknownPartner
from referral_intake.domain.person import DEVELOPMENT_PERSON_KEY_SECRET, person_key
from referral_intake.domain.referral import ReferralSubmission, StoredReferral, accepted
from referral_intake.domain.search import AnyOf
from referral_intake.ports import IntakeWork
from referral_intake.search_service import existing_match
from referral_intake.task_index import TaskView, refresh_task, task_view
from signpost_contracts.vocabulary import WithdrawalStatus
from signpost_runtime.auth import AuthError, Principal

log = logging.getLogger(__name__)


class ReferralConflictError(Exception):
    """The identifier was claimed by a request that then vanished; the sender should retry."""


class DuplicateRequestError(Exception):
    """This organisation already sent a request with this X-Request-ID; it created `referral_id`."""

    def __init__(self, request_id: str, referral_id: str) -> None:
        super().__init__(f"X-Request-ID {request_id} already created referral {referral_id}")
        self.request_id = request_id
        self.referral_id = referral_id


class ReferralNotFound(Exception):  # noqa: N818 (an answer, not a fault)
    """No referral with this id that the caller may know of."""


class VersionMismatch(Exception):  # noqa: N818
    """If-Match named a version that is no longer the current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the current version is {current}")
        self.current = current


class NotWithdrawable(Exception):  # noqa: N818
    """The referral is not active (already withdrawn, or its support has ended), so it cannot be withdrawn."""


@dataclass(frozen=True)
class Submitted:
    referral: StoredReferral
    created: bool


# Reads the stored ServiceRequest and the change the referrer sent, and says which withdrawal it asks for
# (the FHIR adapter: a JSON Patch or a whole resource); raises to refuse a change that is not a withdrawal.
RequestedChange = Callable[[dict[str, Any]], WithdrawalStatus]


class IntakeService:
    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        person_key_secret: str = DEVELOPMENT_PERSON_KEY_SECRET,
        partners: PartnerRegister | None = None,
        deprivation: DeprivationLookup | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._person_key_secret = person_key_secret.encode()
        self.partners = partners or PartnerRegister()
        self.deprivation = deprivation or DeprivationLookup.empty()

    async def submit(
        self,
        unit: IntakeWork,
        submission: ReferralSubmission,
        principal: Principal,
        correlation_id: str | None,
        request_id: str | None = None,
        condition: Sequence[AnyOf] | None = None,
    ) -> Submitted:
        """Store a new referral and announce it (with the door it came by, `submission.channel`), in the unit's
        one transaction.

        With a `condition` (If-None-Exist), the one referral it matches is returned and nothing is stored
        (search_service.existing_match, which raises for more than one). A repeated X-Request-ID raises
        DuplicateRequestError; a repeated identifier returns the first referral. Raises AlreadyClaimedError
        when a concurrent request claimed the same key first: the unit must then roll back, and
        `resolve_race` in a new unit finds what the winner stored.
        """
        access.authorise_sender(principal, submission)
        submission = self._as_registered(submission)
        matched = await existing_match(unit, condition, submission, principal) if condition is not None else None
        if matched is not None:
            return Submitted(matched, created=False)
        earlier = await _earlier(unit, submission, request_id)
        if earlier is not None:
            return Submitted(earlier, created=False)
        now = self.clock()
        stored = await unit.referrals.insert(
            submission,
            referral_id=str(uuid.uuid4()),
            task_id=str(uuid.uuid4()),
            now=now,
            request_id=request_id,
            sender=access.sender_of(principal, submission),
            replaces_referral_id=await _replaced(unit, submission),
        )
        await refresh_task(unit, stored.id, now)
        key = person_key(submission.nhs_number, self._person_key_secret) if submission.nhs_number else None
        # Every door (FHIR, BaRS, forms, outreach, the inbound topic) comes through here, so the decile is
        # looked up once: the full postcode stays in intake, only the decile leaves on the event.
        postcode = submission.person.postcode
        decile = self.deprivation.decile(postcode) if postcode else None
        received = accepted(submission, stored, key, imd_decile=decile)
        unit.publish(*events.referral_received(received, correlation_id or stored.id))
        log.info("referral %s received from %s by %s", stored.id, stored.requester_ods, submission.channel)
        return Submitted(stored, created=True)

    def _as_registered(self, submission: ReferralSubmission) -> ReferralSubmission:
        """A partner's referral carries the partner's registered name, kind and reply address, whatever was sent:
        replies go to the address the service agreed with the partner, not to one typed into a request."""
        partner_id = submission.referrer.partner_id
        if partner_id is None:
            return submission
        try:
            partner = self.partners.get(partner_id)
        except UnknownPartner as unknown:
            raise AuthError(403, str(unknown)) from None
        return replace(submission, referrer=partner.as_referrer())

    async def resolve_race(self, unit: IntakeWork, submission: ReferralSubmission, request_id: str | None) -> Submitted:
        """After losing a race with the same request or referral sent twice at once: the winner's referral."""
        earlier = await _earlier(unit, submission, request_id)
        if earlier is None:
            raise ReferralConflictError
        return Submitted(earlier, created=False)

    async def referral(self, unit: IntakeWork, referral_id: str, principal: Principal) -> StoredReferral | None:
        referral = access.readable(await unit.referrals.get(referral_id), principal)
        if referral:
            await audit.shown(unit, principal, "ServiceRequest", [referral.id])
        return referral

    async def task_for_referral(self, unit: IntakeWork, referral_id: str, principal: Principal) -> TaskView | None:
        return await self._task_of(unit, access.readable(await unit.referrals.get(referral_id), principal), principal)

    async def task(self, unit: IntakeWork, task_id: str, principal: Principal) -> TaskView | None:
        return await self._task_of(
            unit, access.readable(await unit.referrals.get_by_task(task_id), principal), principal
        )

    async def _task_of(
        self, unit: IntakeWork, referral: StoredReferral | None, principal: Principal
    ) -> TaskView | None:
        if referral is None:
            return None
        await audit.shown(unit, principal, "Task", [referral.id])
        return await task_view(unit, referral, principal)

    async def withdraw(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        change: RequestedChange,
        *,
        if_match: frozenset[int] | None,
        correlation_id: str | None,
    ) -> StoredReferral:
        """The referrer withdraws an active referral (revoked, or entered-in-error): version 2 of its ServiceRequest,
        the Task cancelled or entered-in-error, the case frozen, referral.withdrawn.v1 announced.

        Refusals, in this order: ReferralNotFound (unknown, or not the caller's to know of), AuthError 403 (the
        caller may read it but not withdraw it), VersionMismatch (If-Match names another version),
        NotWithdrawable (not active), then whatever `change` raises for a change that is not a withdrawal.
        """
        referral = await unit.referrals.get_for_update(referral_id)
        if referral is None or not (access.may_withdraw(principal, referral) or access.may_read(principal, referral)):
            raise ReferralNotFound
        if not access.may_withdraw(principal, referral):
            raise AuthError(
                403,
                f"only the requesting organisation ({referral.requester_ods}), an intermediary allowed to send for "
                "it, or the system that sent the referral may withdraw it",
            )
        if if_match is not None and referral.version not in if_match:
            raise VersionMismatch(referral.version)
        if referral.status != "active":
            raise NotWithdrawable(
                f"this referral's status is {referral.status}: only an active referral can be withdrawn"
            )
        status = change(referral.resource)
        case = await unit.cases.load(referral_id)
        if status == "revoked" and case is not None and case.closure is not None:
            raise NotWithdrawable(
                f"support for this referral has ended (its case closed: {case.closure.reason}), so there is nothing "
                "to revoke; if it was sent in error, set its status to entered-in-error"
            )
        withdrawn = await unit.referrals.withdraw(referral_id, status=status, now=self.clock())
        await refresh_task(unit, referral_id, withdrawn.last_updated)
        unit.publish(
            events.referral_withdrawn(
                ReferralWithdrawn(referral_id, status, withdrawn.last_updated), correlation_id or referral_id
            )
        )
        log.info("referral %s withdrawn (%s) by %s", referral_id, status, principal.subject)
        return withdrawn


async def _earlier(unit: IntakeWork, submission: ReferralSubmission, request_id: str | None) -> StoredReferral | None:
    """The referral this request repeats: DuplicateRequestError for its X-Request-ID, else by identifier."""
    if request_id is not None:
        referral_id = await unit.referrals.find_by_request(submission.referrer.requester, request_id)
        if referral_id is not None:
            raise DuplicateRequestError(request_id, referral_id)
    return await unit.referrals.find_by_identifiers(submission.referrer.requester, submission.identifiers)


async def _replaced(unit: IntakeWork, submission: ReferralSubmission) -> str | None:
    """The first referral ServiceRequest.replaces names that this organisation sent. Any other is ignored, not
    refused: a referral is never turned away for a link it cannot make, and whether an id is another
    organisation's is never told."""
    for referral_id in submission.replaces:
        earlier = await unit.referrals.get(referral_id)
        if earlier is not None and earlier.requester_ods == submission.referrer.requester:
            return earlier.id
    if submission.replaces:
        log.info(
            "ServiceRequest.replaces names %s, none of them a referral %s sent here: the link is ignored",
            ", ".join(submission.replaces),
            submission.referrer.requester,
        )
    return None
