"""Every integration event type: its payload model, its stream and the service that owns it."""

from __future__ import annotations

from dataclasses import dataclass

from signpost_contracts.base import ContractModel
from signpost_contracts.envelope import EventEnvelope
from signpost_contracts.events.cases import (
    CaseClosed,
    ContactRecorded,
    ExtensionGranted,
    ExtensionRefused,
    GoalsSet,
    HandoverRequested,
    MeasuresRecorded,
    ReassignmentRequested,
    ReferralWithdrawn,
    SessionRecorded,
)
from signpost_contracts.events.contacts import PersonContact, PersonContactErased
from signpost_contracts.events.erasure import ReferralErased
from signpost_contracts.events.inbound import InboundAccepted, InboundRefused
from signpost_contracts.events.notifications import (
    NotificationFailed,
    NotificationSent,
    UrgentSettled,
    UrgentUnconfirmed,
)
from signpost_contracts.events.operations import PipelineHealth
from signpost_contracts.events.referrals import ReferralReceived, ReferralReceivedV2
from signpost_contracts.events.triage import (
    HandoverRefused,
    ReassignmentRefused,
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralHandedOver,
    ReferralLinked,
    ReferralReassigned,
    ReferralTriaged,
    ReferralWaitlisted,
    RosterCaseloads,
    ServiceStatus,
)
from signpost_contracts.topics import Stream


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[ContractModel]
    stream: Stream
    producer: str
    # A type its producer no longer sends, replaced by this newer version; consumers still read it (history).
    superseded_by: str | None = None
    # Published as a Kafka tombstone: a null value under the referral's key, so a compacted topic forgets the key.
    tombstone: bool = False

    @property
    def source(self) -> str:
        return f"/signpost/{self.producer}"


def _intake(name: str, model: type[ContractModel]) -> EventType:
    return EventType(name, model, Stream.REFERRALS, "referral-intake")


def _triage(name: str, model: type[ContractModel]) -> EventType:
    return EventType(name, model, Stream.TRIAGE, "triage")


# One topic per producer keeps each referral's events from that producer in order (keyed by referral id).
REFERRAL_RECEIVED_V2 = _intake("referral.received.v2", ReferralReceivedV2)
REFERRAL_RECEIVED = EventType(
    "referral.received.v1",
    ReferralReceived,
    Stream.REFERRALS,
    "referral-intake",
    superseded_by=REFERRAL_RECEIVED_V2.name,
)
# Consumers handle every version of a referral's arrival alike: each is read as the newest model.
REFERRAL_RECEIVED_VERSIONS = (REFERRAL_RECEIVED, REFERRAL_RECEIVED_V2)
REFERRAL_WITHDRAWN = _intake("referral.withdrawn.v1", ReferralWithdrawn)
CONTACT_RECORDED = _intake("case.contact-recorded.v1", ContactRecorded)
GOALS_SET = _intake("case.goals-set.v1", GoalsSet)
SESSION_RECORDED = _intake("case.session-recorded.v1", SessionRecorded)
EXTENSION_GRANTED = _intake("case.extension-granted.v1", ExtensionGranted)
EXTENSION_REFUSED = _intake("case.extension-refused.v1", ExtensionRefused)
MEASURES_RECORDED = _intake("case.measures-recorded.v1", MeasuresRecorded)
CASE_CLOSED = _intake("case.closed.v1", CaseClosed)
HANDOVER_REQUESTED = _intake("case.handover-requested.v1", HandoverRequested)
REASSIGNMENT_REQUESTED = _intake("case.reassignment-requested.v1", ReassignmentRequested)
# On the referrals stream, keyed by referral id: it follows that referral's earlier events in order.
REFERRAL_ERASED = _intake("referral.erased.v1", ReferralErased)
# On the compacted contacts stream, keyed by referral id: a self-referrer's own reply address, and its tombstone.
PERSON_CONTACT = EventType("referral.person-contact.v1", PersonContact, Stream.CONTACTS, "referral-intake")
PERSON_CONTACT_ERASED = EventType(
    "referral.person-contact-erased.v1", PersonContactErased, Stream.CONTACTS, "referral-intake", tombstone=True
)

# Intake's answers to the messages integration engines send on the inbound topic.
INBOUND_ACCEPTED = EventType("referral.inbound-accepted.v1", InboundAccepted, Stream.INBOUND_REPLIES, "referral-intake")
INBOUND_REFUSED = EventType("referral.inbound-refused.v1", InboundRefused, Stream.INBOUND_REPLIES, "referral-intake")

REFERRAL_TRIAGED = _triage("referral.triaged.v1", ReferralTriaged)
REFERRAL_ASSIGNED = _triage("referral.assigned.v1", ReferralAssigned)
REFERRAL_WAITLISTED = _triage("referral.waitlisted.v1", ReferralWaitlisted)
REFERRAL_ASSIGNED_FROM_WAITLIST = _triage("referral.assigned-from-waitlist.v1", ReferralAssignedFromWaitlist)
REFERRAL_HANDED_OVER = _triage("referral.handed-over.v1", ReferralHandedOver)
HANDOVER_REFUSED = _triage("referral.handover-refused.v1", HandoverRefused)
REFERRAL_REASSIGNED = _triage("referral.reassigned.v1", ReferralReassigned)
REASSIGNMENT_REFUSED = _triage("referral.reassignment-refused.v1", ReassignmentRefused)
REFERRAL_LINKED = _triage("referral.linked.v1", ReferralLinked)
# Not about one referral: its subject (and key) is the service, SERVICE_SUBJECT.
SERVICE_STATUS = _triage("service.status.v1", ServiceStatus)
SERVICE_SUBJECT = "service"
# Also about the service (its subject and key SERVICE_SUBJECT), on the status's partition and clock.
ROSTER_CASELOADS = _triage("roster.caseloads.v1", RosterCaseloads)

# Sent by every service, not one owner: the runtime kit publishes it for each (signpost_runtime.pipeline_health).
EVERY_SERVICE = "every-service"
PIPELINE_HEALTH = EventType("service.pipeline-health.v1", PipelineHealth, Stream.OPERATIONS, EVERY_SERVICE)

NOTIFICATION_SENT = EventType("notification.sent.v1", NotificationSent, Stream.NOTIFICATIONS, "notifications")
NOTIFICATION_FAILED = EventType("notification.failed.v1", NotificationFailed, Stream.NOTIFICATIONS, "notifications")
URGENT_UNCONFIRMED = EventType(
    "notification.urgent-unconfirmed.v1", UrgentUnconfirmed, Stream.NOTIFICATIONS, "notifications"
)
URGENT_SETTLED = EventType("notification.urgent-settled.v1", UrgentSettled, Stream.NOTIFICATIONS, "notifications")

EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        REFERRAL_RECEIVED,
        REFERRAL_RECEIVED_V2,
        REFERRAL_WITHDRAWN,
        CONTACT_RECORDED,
        GOALS_SET,
        SESSION_RECORDED,
        EXTENSION_GRANTED,
        EXTENSION_REFUSED,
        MEASURES_RECORDED,
        CASE_CLOSED,
        HANDOVER_REQUESTED,
        REASSIGNMENT_REQUESTED,
        REFERRAL_ERASED,
        PERSON_CONTACT,
        PERSON_CONTACT_ERASED,
        INBOUND_ACCEPTED,
        INBOUND_REFUSED,
        REFERRAL_TRIAGED,
        REFERRAL_ASSIGNED,
        REFERRAL_WAITLISTED,
        REFERRAL_ASSIGNED_FROM_WAITLIST,
        REFERRAL_HANDED_OVER,
        HANDOVER_REFUSED,
        REFERRAL_REASSIGNED,
        REASSIGNMENT_REFUSED,
        REFERRAL_LINKED,
        SERVICE_STATUS,
        ROSTER_CASELOADS,
        NOTIFICATION_SENT,
        NOTIFICATION_FAILED,
        URGENT_UNCONFIRMED,
        URGENT_SETTLED,
        PIPELINE_HEALTH,
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
