"""The person's own reply address, produced by referral_intake on the compacted `referral.contacts` stream.

A self-referral's (and outreach's) referrer is the person, so their reply address is personal data that
must go when the person is erased. The `referrals` stream keeps history for the service's lifetime and
cannot forget one record, so the address does not travel on referral.received: it travels here, keyed by
the referral id, on a topic whose cleanup policy is compaction (topics.TOPIC_CONFIGS). On erasure intake
publishes a tombstone for the same key (referral.person-contact-erased.v1: a null value, ids and times in
its headers only); compaction then removes every earlier record of that key within a bounded time
(max.compaction.lag.ms), and the tombstone itself after delete.retention.ms.

A professional referrer's reply address (a GP practice's, a social worker's) is not the person's and stays
on referral.received, where every consumer has always found it.
"""

from __future__ import annotations

from pydantic import Field

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import EMAIL_LIMIT, PHONE_LIMIT


class PersonContact(ContractModel):
    """How to reach the person who is the referrer (referrer kind "self"), as they gave it with consent."""

    referral_id: str
    email: str | None = Field(default=None, max_length=EMAIL_LIMIT)
    phone: str | None = Field(default=None, max_length=PHONE_LIMIT)


class PersonContactErased(ContractModel):
    """The tombstone of a referral's PersonContact: sent with a null value, so it has no data at all.

    The referral is its key and its CloudEvents subject; a consumer forgets what it holds under that key.
    """
