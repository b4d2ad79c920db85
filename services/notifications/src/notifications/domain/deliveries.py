"""A delivery: one message about one outcome on one channel, identified by its idempotency key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from notifications.domain.messages import EMAIL, Channel
from notifications.domain.outcomes import Outcome, ReferrerContact

__all__ = ["EMAIL"]  # re-exported: the channel constants live in domain/messages.py
# suppressed: never to be sent (the referral was withdrawn; see domain/withdrawal.py).
DeliveryStatus = Literal["pending", "sent", "failed", "suppressed"]
# Fixed forever: notification ids and Message-IDs are derived from it, so a re-send is recognisable.
_NOTIFICATION_NAMESPACE = uuid.UUID("6f3c1f0e-2b7a-5d4e-9a61-5c0e7d1b8a42")


def idempotency_key(outcome_event_id: str, channel: str = EMAIL, audience: str = "referrer") -> str:
    """Derived from the outcome event id, so however often that event arrives it is one delivery.

    One per (event, channel, recipient): the referrer's is `<channel>:<event id>` (as it always was,
    so deliveries stored before other channels existed keep their keys); the duty coordinator's adds `:duty`.
    """
    return f"{channel}:{outcome_event_id}" + ("" if audience == "referrer" else f":{audience}")


def notification_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, key)


def message_id(key: str, domain: str) -> str:
    """RFC 5322 Message-ID; the same delivery always gets the same one, so a re-send is a duplicate downstream."""
    return f"<{notification_id(key)}@{domain}>"


def address_problem(address: str | None) -> str | None:
    """What is wrong with `address` as one recipient, in email-validator's words; None if it can be used.

    Deliverability (DNS) is not checked here: that needs the network, and a referrer's mail server
    being down for a moment must not fail the delivery. The SMTP provider decides that at send time.
    """
    if not address:
        return "there is no address"
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


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
    problem = address_problem(contact.email)
    if problem:
        return (
            # The address itself stays out: this text goes into logs and notification.failed.v1. Whoever
            # follows it up finds the address on the referral.
            f"unusable referrer email address (referrer.contact.email) for referral {contact.referral_id}: "
            f"{problem} Expected one address like name@example.nhs.uk; "
            f"tell {who} the outcome another way and ask them to correct their contact details"
        )
    return None


@dataclass(frozen=True)
class NewDelivery:
    notification_id: uuid.UUID
    idempotency_key: str
    outcome: Outcome
    channel: Channel
    recipient: str | None
    subject: str
    body: str
    correlation_id: str
    template: str = ""  # the message's name (e.g. "self/assigned"): chooses its GOV.UK Notify template
    audience: str = "referrer"  # or "duty": an urgent message escalated to the duty coordinator
    route_rank: int = 0  # its place in the referrer's channel order (domain/routing.py)
    failed_because: str | None = None  # set when the delivery can never be attempted
    suppressed_because: str | None = None  # set when it must never be sent; wins over failed_because

    @property
    def status(self) -> DeliveryStatus:
        if self.suppressed_because:
            return "suppressed"
        return "failed" if self.failed_because else "pending"


@dataclass(frozen=True)
class Claim:
    """Who holds a delivery's lease, and which claim of it this is: the fencing token for its result."""

    owner: str
    number: int


@dataclass(frozen=True)
class ClaimedDelivery:
    notification_id: uuid.UUID
    idempotency_key: str
    referral_id: str
    outcome_event_id: str
    about_event_type: str
    channel: Channel
    recipient: str
    subject: str
    body: str
    correlation_id: str
    attempts: int  # the provider's answers so far (sent or refused), not counting this one
    unrecorded_claims: int  # claims since a result was last recorded, this one included
    claim: Claim
    template: str = ""
    audience: str = "referrer"
    route_rank: int = 0


@dataclass(frozen=True)
class AwaitedReceipt:
    """A delivery the provider took and has not yet said whether it reached its recipient."""

    notification_id: uuid.UUID
    referral_id: str
    outcome_event_id: str
    about_event_type: str
    channel: Channel
    audience: str
    route_rank: int
    correlation_id: str
    provider_reference: str
    sent_at: datetime


@dataclass(frozen=True)
class Finished:
    """A delivery's result was recorded: after `attempts` attempts, at `at`."""

    attempts: int
    at: datetime


@dataclass(frozen=True)
class RedriveCandidate:
    """A delivery someone asked to re-drive, as found: only a failed one with a usable address goes again."""

    notification_id: uuid.UUID
    referral_id: str
    status: DeliveryStatus
    recipient: str | None
    last_error: str | None
    referral_withdrawn: bool = False  # and this is not the withdrawal's confirmation
    channel: str = EMAIL


@dataclass(frozen=True)
class RedriveSelection:
    """Which deliveries to send again: these ids, or a referral's failed ones, or every failed one (since a moment)."""

    notification_ids: tuple[uuid.UUID, ...] = ()
    referral_id: str | None = None
    all_failed: bool = False
    failed_since: datetime | None = None  # with all_failed only


class SendError(Exception):
    """The provider answered the message with a refusal. Permanent ones (SMTP 5xx) will not succeed on retry."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ProviderUnavailableError(Exception):
    """The provider could not be reached, or would not take any message: nothing was said about this one.

    Connection refused or reset, a name that does not resolve, a connect timeout, a failed TLS
    handshake, 421 (service not available), or our own credentials refused. The delivery waits for
    the provider to come back; the attempt is not counted.
    """


@dataclass(frozen=True)
class UrgentAlert:
    """An urgent outcome whose message is not yet confirmed delivered nor acknowledged by staff."""

    outcome_event_id: str
    referral_id: str
    raised_at: datetime
    escalate_at: datetime
    escalations: int
    last_escalation: str | None


@dataclass(frozen=True)
class Acknowledged:
    """Staff acknowledged an urgent alert: the first acknowledgement and who made it (it stands)."""

    referral_id: str
    at: datetime
    by: str
    settled_now: bool  # it was still open until this acknowledgement
