"""Every integration event type: its payload model, its stream and the service that owns it."""

from __future__ import annotations

from dataclasses import dataclass

from signpost_contracts.base import ContractModel
from signpost_contracts.envelope import EventEnvelope
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.events.triage import ReferralAssigned, ReferralTriaged, ReferralWaitlisted
from signpost_contracts.topics import Stream


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[ContractModel]
    stream: Stream
    producer: str

    @property
    def source(self) -> str:
        return f"/signpost/{self.producer}"


REFERRAL_RECEIVED = EventType("referral.received.v1", ReferralReceived, Stream.REFERRALS, "referral-intake")
REFERRAL_TRIAGED = EventType("referral.triaged.v1", ReferralTriaged, Stream.TRIAGE, "triage")
REFERRAL_ASSIGNED = EventType("referral.assigned.v1", ReferralAssigned, Stream.TRIAGE, "triage")
REFERRAL_WAITLISTED = EventType("referral.waitlisted.v1", ReferralWaitlisted, Stream.TRIAGE, "triage")
NOTIFICATION_SENT = EventType("notification.sent.v1", NotificationSent, Stream.NOTIFICATIONS, "notifications")
NOTIFICATION_FAILED = EventType("notification.failed.v1", NotificationFailed, Stream.NOTIFICATIONS, "notifications")

EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        REFERRAL_RECEIVED,
        REFERRAL_TRIAGED,
        REFERRAL_ASSIGNED,
        REFERRAL_WAITLISTED,
        NOTIFICATION_SENT,
        NOTIFICATION_FAILED,
    )
}
_BY_MODEL = {event_type.model: event_type for event_type in EVENT_TYPES.values()}


def event_type_of(payload: ContractModel) -> EventType:
    try:
        return _BY_MODEL[type(payload)]
    except KeyError:
        raise TypeError(f"{type(payload).__name__} is not a registered integration event") from None


def new_event(
    payload: ContractModel, *, subject: str, correlation_id: str, causation_id: str | None = None
) -> EventEnvelope:
    """Wrap a payload in a fresh envelope. The subject is the referral id (also the Kafka key)."""
    event_type = event_type_of(payload)
    return EventEnvelope(
        type=event_type.name,
        source=event_type.source,
        subject=subject,
        correlationid=correlation_id,
        causationid=causation_id,
        data=payload.model_dump(mode="json"),
    )
