"""Who may do what with a referral: send it, read it, withdraw it, work its case.

Whenever a caller may not even know that a record exists, the use cases answer as for an unknown
id (None, NotFound), so that no read, search or write tells one organisation, or one connector,
which referral ids another holds.
"""

from __future__ import annotations

import logging

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


def may_read(principal: Principal, referral: StoredReferral) -> bool:
    # An integration engine follows the referrals it sent, whichever organisation they were for.
    return sent_by(principal, referral) or principal.may_read_organisation(referral.requester_ods)


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
