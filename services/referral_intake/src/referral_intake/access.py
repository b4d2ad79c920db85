"""Who may do what with a referral: send it, read it, withdraw it, work its case.

Whenever a caller may not even know that a record exists, the use cases answer as for an unknown
id (None, NotFound), so that no read, search or write tells one organisation, or one connector,
which referral ids another holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from referral_intake.domain.case import Case
from referral_intake.domain.referral import ReferralSubmission, Sender, StoredReferral, partner_requester
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal

log = logging.getLogger(__name__)


# The doors through which a person's own referral comes: the public form (nobody signs in) and outreach
# (the route itself requires a connector's or coordinator's scope). No other door makes a referral of no
# organisation's, so one arriving by another is refused.
_OWN_REFERRAL_CHANNELS = frozenset({"self-referral", "outreach"})


def authorise_sender(principal: Principal, submission: ReferralSubmission) -> None:
    referrer = submission.referrer
    if referrer.partner_id is not None:
        _authorise_partner(principal, referrer.partner_id)
        return
    if referrer.ods_code is None:
        if submission.channel not in _OWN_REFERRAL_CHANNELS:
            raise AuthError(403, "a referral must name the referring organisation")
        return
    requester = referrer.ods_code
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


def _authorise_partner(principal: Principal, partner_id: str) -> None:
    if principal.may_send_for_partner(partner_id):
        return
    yours = f"is for partner {principal.partner_id}" if principal.partner_id else "names no partner organisation"
    raise AuthError(
        403,
        f"your token {yours} but the referral's requester is partner {partner_id}; a partner's staff send with a "
        "token carrying the referrals:write scope and the partner's id as its `org` claim",
    )


def sender_of(principal: Principal, submission: ReferralSubmission) -> Sender | None:
    """The sending system, recorded when it is not the requester sending for itself: an integration engine, or the
    connector who recorded an outreach referral (the public form has no sender to record)."""
    referrer = submission.referrer
    if submission.channel == "self-referral":
        return None
    if referrer.partner_id is not None and principal.partner_id == referrer.partner_id:
        return None
    if referrer.ods_code is not None and principal.ods_code == referrer.ods_code and not principal.is_intermediary:
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
    # A partner's staff read their own organisation's referrals, held under the partner's requester key.
    own = {principal.ods_code} if principal.ods_code else set()
    if principal.partner_id is not None:
        own.add(partner_requester(principal.partner_id))
    return ReadScope(
        every_organisation=principal.may_read_organisation(None),
        organisations=frozenset(own),
        sent_by_system=principal.subject if principal.is_intermediary else None,
    )


def may_read(principal: Principal, referral: StoredReferral) -> bool:
    return read_scope(principal).covers(referral)


def may_withdraw(principal: Principal, referral: StoredReferral) -> bool:
    """The requesting organisation (or an intermediary allowed to send for it), or the intermediary that sent it."""
    partner = principal.partner_id is not None and principal.may_send_for_partner(principal.partner_id)
    return (
        principal.may_send_for(referral.requester_ods)
        or (partner and _partners_own(principal, referral))
        or sent_by(principal, referral)
    )


def _partners_own(principal: Principal, referral: StoredReferral) -> bool:
    return principal.partner_id is not None and referral.requester_ods == partner_requester(principal.partner_id)


def sent_by(principal: Principal, referral: StoredReferral) -> bool:
    return referral.sender is not None and principal.is_intermediary and referral.sender.system == principal.subject


def coordinates(principal: Principal) -> bool:
    return Scope.CASES_COORDINATE in principal.scopes


def may_work_on(principal: Principal, case: Case | None) -> bool:
    """A coordinator works on every case; a connector (token `sub` = roster id) on those they hold."""
    if coordinates(principal):
        return True
    return case is not None and case.connector_id is not None and case.connector_id == principal.subject
