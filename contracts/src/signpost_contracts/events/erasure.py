"""The erasure of a person's identifiers, produced by referral_intake on the `referrals` stream.

One event per referral, keyed by its id like every other event about it, so each service applies it in
order after the referral's earlier events on the same topic. It carries ids and times only: an event
that named what was erased would put back on the wire what the erasure took out of the databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from signpost_contracts.base import ContractModel

# Why a referral was erased: the person asked (UK GDPR Art. 17), or its case closed longer ago than the
# retention period (intake's RETENTION_DAYS).
ErasureReason = Literal["request", "retention"]


class ReferralErased(ContractModel):
    """The person's identifiers on this referral (and its case) were erased at intake; every service that
    holds anything addressed to or written about the person erases it too. Counts stay: the referral,
    its dates and its outcome codes are kept."""

    referral_id: str
    erased_at: datetime
    because: ErasureReason = Field(default="request", description="'request' (the person asked) or 'retention'")
