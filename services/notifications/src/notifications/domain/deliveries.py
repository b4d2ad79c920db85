"""A delivery: one message about one outcome on one channel, identified by its idempotency key."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from notifications.domain.outcomes import ReferrerContact

EMAIL = "email"
# Fixed forever: notification ids and Message-IDs are derived from it, so a re-send is recognisable.
_NOTIFICATION_NAMESPACE = uuid.UUID("6f3c1f0e-2b7a-5d4e-9a61-5c0e7d1b8a42")
# Deliberately simple: one @, a dotted domain, nothing that could break a header or an SMTP command.
_USABLE_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+")


def idempotency_key(outcome_event_id: str, channel: str = EMAIL) -> str:
    """Derived from the outcome event id, so however often that event arrives it is one delivery."""
    return f"{channel}:{outcome_event_id}"


def notification_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, key)


def message_id(key: str, domain: str) -> str:
    """RFC 5322 Message-ID; the same delivery always gets the same one, so a re-send is a duplicate downstream."""
    return f"<{notification_id(key)}@{domain}>"


def recipient_problem(contact: ReferrerContact) -> str | None:
    """Why this referrer cannot be emailed, worded for the person who must follow it up; None if they can."""
    who = contact.organisation_name or "the referrer"
    if contact.ods_code:
        who += f" (ODS {contact.ods_code})"
    if not contact.email:
        return (
            f"no referrer email address: referral.received.v1 for referral {contact.referral_id} had no "
            f"referrer.contact.email, so {who} could not be emailed; tell them the outcome another way "
            "and ask them to include a contact email in future referrals"
        )
    if not _USABLE_EMAIL.fullmatch(contact.email):
        return (
            f"unusable referrer email address {contact.email!r} (referrer.contact.email) for referral "
            f"{contact.referral_id}: expected one address like name@example.nhs.uk; tell {who} the outcome "
            "another way and ask them to correct their contact details"
        )
    return None


@dataclass(frozen=True)
class OutgoingEmail:
    recipient: str
    subject: str
    text: str
    message_id: str
    idempotency_key: str
    referral_id: str


class SendError(Exception):
    """A send did not succeed. Permanent failures (SMTP 5xx) will not succeed on retry."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
