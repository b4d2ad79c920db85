"""A message as a channel's sender sees it, and what a provider says back about it.

Every channel (SMTP email, GOV.UK Notify email and SMS, BaRS servicerequest-response) has a sender
with the same shape, so the dispatcher treats them alike: `send` either returns `Sent`, or raises
`SendError` (the provider answered and refused this message: an attempt) or
`ProviderUnavailableError` (the provider could not be asked: an outage, not an attempt), both in
`notifications.domain.deliveries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, Protocol

Channel = Literal["email", "sms", "bars"]
EMAIL: Final = "email"
SMS: Final = "sms"
BARS: Final = "bars"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one recipient on one channel, exactly as it was composed when the delivery was created.

    recipient: an email address (email), a UK mobile number (sms), or for bars the target service's
    endpoint identifier as the referrer's MessageHeader.source.endpoint gave it (e.g.
    "https://fhir.nhs.uk/Id/dos-service-id|2000072489").
    text: the rendered body (email, sms); for bars the servicerequest-response Bundle as JSON.
    template, personalisation: the GOV.UK Notify template this message uses (its kind, e.g.
    "assigned"; configuration maps it to a template id per channel) and the fields Signpost fills in.
    """

    channel: Channel
    recipient: str
    subject: str
    text: str
    message_id: str  # RFC 5322 Message-ID for email; the same delivery always has the same one
    idempotency_key: str  # stable for the delivery: Notify's `reference`, BaRS's X-Request-ID is derived from it
    referral_id: str
    correlation_id: str
    template: str = ""
    personalisation: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """The provider took the message.

    provider_reference: the provider's id for it (Notify's notification id), used to ask for its receipt.
    confirmed: the provider says it reached the recipient already (a BaRS receiver's 200, or its 409
    duplicate); otherwise a receipt may follow (Notify), or never does (SMTP).
    """

    provider_reference: str | None = None
    confirmed: bool = False


ReceiptStatus = Literal["pending", "delivered", "permanent-failure", "temporary-failure"]


@dataclass(frozen=True)
class Receipt:
    """What the provider says became of a message it took."""

    status: ReceiptStatus
    detail: str | None = None  # the provider's own status word, e.g. Notify's "technical-failure"
    at: datetime | None = None


class MessageSender(Protocol):
    # Outages are per provider: one circuit breaker per name (Notify's email and SMS share "notify").
    provider: str

    async def send(self, message: OutgoingMessage) -> Sent: ...


class ReceiptReader(Protocol):
    """A provider that reports delivery afterwards (GOV.UK Notify)."""

    async def receipt(self, provider_reference: str) -> Receipt: ...

    async def already_sent(self, idempotency_key: str) -> str | None:
        """The provider's reference of a message it already took with this key, if any.

        Asked before sending a delivery again after a send whose answer was lost, so it is not sent twice.
        """
        ...
