"""Who may do what with a referral: send it, read it, withdraw it, work its case.

Whenever a caller may not even know that a record exists, the use cases answer as for an unknown
id (None, NotFound), so that no read, search or write tells one organisation, or one connector,
which referral ids another holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from referral_intake.domain.case import Case
from referral_intake.domain.referral import ReferralSubmission, Sender, StoredReferral
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal

log = logging.getLogger(__name__)


def authorise_sender(principal: Principal, submission: ReferralSubmission) -> None:
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


def sender_of(principal: Principal, submission: ReferralSubmission) -> Sender | None:
    """The sending system, recorded when it is not the requester sending for itself."""
    if principal.ods_code == submission.referrer.ods_code and not principal.is_intermediary:
        return None
    return Sender(system=principal.subject, ods_code=principal.ods_code)


def readable(referral: StoredReferral | None, principal: Principal) -> StoredReferral | None:
    """The referral if this principal may read it; otherwise None, exactly as for an unknown id."""
    if referral is not None and not may_read(principal, referral):
        log.info("refused %s a read of referral %s of another organisation", principal.subject, referral.id)
        return None
    return referral


@dataclass(frozen=True)
class ReadScope:
    """The referrals a principal may read, as a filter a search can run in SQL (adapters/repository.py) and
    `may_read` runs on one referral: the same rule both ways."""

    every_organisation: bool
    organisations: frozenset[str]
    sent_by_system: str | None  # an integration engine follows the referrals it sent, whoever they were for

    def covers(self, referral: StoredReferral) -> bool:
        sender = referral.sender.system if referral.sender else None
        return (
            self.every_organisation
            or referral.requester_ods in self.organisations
            or (self.sent_by_system is not None and sender == self.sent_by_system)
        )

    def and_organisation(self, ods_code: str) -> ReadScope:
        return replace(self, organisations=self.organisations | {ods_code})


def read_scope(principal: Principal) -> ReadScope:
    return ReadScope(
        every_organisation=principal.may_read_organisation(None),
        organisations=frozenset({principal.ods_code}) if principal.ods_code else frozenset(),
        sent_by_system=principal.subject if principal.is_intermediary else None,
    )


def may_read(principal: Principal, referral: StoredReferral) -> bool:
    return read_scope(principal).covers(referral)


def may_withdraw(principal: Principal, referral: StoredReferral) -> bool:
    """The requesting organisation (or an intermediary allowed to send for it), or the intermediary that sent it."""
    return principal.may_send_for(referral.requester_ods) or sent_by(principal, referral)


def sent_by(principal: Principal, referral: StoredReferral) -> bool:
    return referral.sender is not None and principal.is_intermediary and referral.sender.system == principal.subject


def coordinates(principal: Principal) -> bool:
    return Scope.CASES_COORDINATE in principal.scopes


def may_work_on(principal: Principal, case: Case | None) -> bool:
    """A coordinator works on every case; a connector (token `sub` = roster id) on those they hold."""
    if coordinates(principal):
        return True
    return case is not None and case.connector_id is not None and case.connector_id == principal.subject
