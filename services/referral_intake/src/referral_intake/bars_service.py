"""Use cases of the BaRS door that the REST door does not have: withdrawing a referral by message.

A BaRS `new` is taken in by IntakeService.submit, as a REST create is. A BaRS `update` whose ServiceRequest is now
revoked or entered-in-error, or a `delete`, withdraws by IntakeService.withdraw, the very use case of the REST
PATCH and PUT; this module only finds the referral the message names and spends the message's X-Request-ID in
the same transaction, so that the message sent again is answered 409 duplicate rather than refused as withdrawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from referral_intake import access
from referral_intake.domain.referral import BusinessIdentifier, StoredReferral
from referral_intake.ports import IntakeWork
from referral_intake.service import DuplicateRequestError, IntakeService, ReferralNotFound
from signpost_contracts.vocabulary import WithdrawalStatus
from signpost_runtime.auth import Principal


async def withdraw_by_message(
    intake: IntakeService,
    unit: IntakeWork,
    *,
    requester_ods: str,
    keys: Sequence[BusinessIdentifier],
    status: WithdrawalStatus,
    principal: Principal,
    request_id: str,
    correlation_id: str,
) -> StoredReferral:
    """Withdraw the referral of `requester_ods` that holds one of `keys`.

    ReferralNotFound when there is none the caller may know of; DuplicateRequestError when this X-Request-ID was
    spent before; then whatever IntakeService.withdraw refuses. AlreadyClaimedError when a concurrent request spent
    the id first (the unit must roll back; the retry then meets DuplicateRequestError).
    """
    referral = await unit.referrals.find_by_identifiers(requester_ods, keys)
    if referral is None or not (access.may_withdraw(principal, referral) or access.may_read(principal, referral)):
        raise ReferralNotFound
    earlier = await unit.referrals.find_by_request(referral.requester_ods, request_id)
    if earlier is not None:
        raise DuplicateRequestError(request_id, earlier)
    withdrawn = await intake.withdraw(
        unit, referral.id, principal, lambda _stored: status, if_match=None, correlation_id=correlation_id
    )
    await unit.referrals.claim_request(referral.requester_ods, request_id, referral.id, intake.clock(), "withdraw")
    return withdrawn
