"""What Signpost tells a BaRS referrer about their referral, and the `servicerequest-response` message that says it.

BaRS (NHS Booking and Referral Standard) answers a referral asynchronously by reversing the roles: Signpost
becomes the sender and POSTs a message Bundle to the referrer's `$process-message`, addressed to the endpoint
their request gave as MessageHeader.source.endpoint. The message follows the BaRS profiles:

- MessageHeader first (profile BARSMessageHeader-servicerequest-response): eventCoding `servicerequest-response`,
  reason `new` for the first answer and `update` for a later one, `response.identifier` the request's id with
  `response.code` `ok`, `destination.endpoint` the referrer's source endpoint, `sender` and
  `destination.receiver` as Organization entries, `focus` the ServiceRequest, `definition` the BaRS short
  referral response MessageDefinition.
- The ServiceRequest (profile BARSServiceRequest-request-referral, intent `plan`, category `referral`) with
  Signpost's referral id as its `id` (BaRS: only the receiver assigns it, as intake's acknowledgement did) and
  as an identifier, and its status saying what happened: `active` accepted, `revoked` rejected, `completed`.
- A note (accepted, completed) goes in ServiceRequest.note.
- A rejection carries its reason as a `rejected-reasons-bars` coding in ServiceRequest.reasonCode, the element
  BaRS keeps for the reason a referral ends with `revoked`. That code system has three codes (version 1.1.0):
  RRNA (resource not available within timescale), FC (failed contact) and OTH (other, with the reason in text,
  which BaRS then requires). Not eligible, redirected elsewhere and declined are all OTH; could not contact is FC.

The message carries no one's personal details beyond the referral's identifiers, and the note is plain text cut
to NOTE_LIMIT characters (`display_text`): a reply never copies clinical free text unbounded. The same reply and
message id always give the same JSON, so a re-sent delivery is byte-identical, as a BaRS retry must be.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fhir.resources.R4B.bundle import Bundle

from notifications.domain.deliveries import notification_id
from notifications.domain.free_text import display_text
from notifications.domain.outcomes import Outcome, ReferrerContact

BarsStatus = Literal["accepted", "rejected", "completed"]
RejectionCode = Literal["RRNA", "FC", "OTH"]
MessageReason = Literal["new", "update"]

MESSAGE_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
MESSAGE_REASONS = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
REJECTED_REASONS = "https://fhir.nhs.uk/CodeSystem/rejected-reasons-bars"
SERVICE_REQUEST_CATEGORY = "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
REFERRAL_IDENTIFIER = "https://signpost.dev/fhir/Id/referral"
SNOMED = "http://snomed.info/sct"
SOCIAL_PRESCRIBING_REFERRAL = "871731000000106"
SOCIAL_PRESCRIBING = "Referral to social prescribing service"
BUNDLE_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage"
HEADER_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-servicerequest-response"
SERVICE_REQUEST_PROFILE = "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"
ORGANIZATION_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"
DEFINITION = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral-short"
RESPONSE_EVENT = "servicerequest-response"
NOTE_LIMIT = 500

REJECTION_DISPLAY: dict[RejectionCode, str] = {
    "RRNA": "Requested resource not available within timescale",
    "FC": "Failed Contact",
    "OTH": "Other",
}
SERVICE_REQUEST_STATUS: dict[BarsStatus, str] = {"accepted": "active", "rejected": "revoked", "completed": "completed"}
# Fixed forever: the entries' fullUrls are derived from it and the message id, so a rebuilt message is the same.
_ENTRY_NAMESPACE = uuid.UUID("b3c1d7a2-4e55-5f0e-8a3b-2d9c6e1f0a77")


@dataclass(frozen=True)
class SignpostIdentity:
    """Signpost as a BaRS sender, from settings: its name, its own endpoint identifier, its ODS code if it has one."""

    service_name: str
    endpoint: str  # where referrers' systems reach Signpost, e.g. "https://fhir.nhs.uk/Id/dos-service-id|2000012345"
    ods_code: str | None = None
    software: str = "Signpost"
    version: str | None = None


@dataclass(frozen=True)
class BarsReply:
    """One answer to one BaRS referral. `request_message_id` and the rest of the origin are as intake recorded them.

    Raises ValueError when the reply cannot be sent as BaRS defines it: a rejection without a code, a reason code
    on a reply that is not a rejection, or OTH without a note (BaRS requires the text for "other").
    """

    status: BarsStatus
    referral_id: str
    request_message_id: str  # BarsOrigin.message_id: becomes MessageHeader.response.identifier
    source_endpoint: str  # BarsOrigin.source_endpoint: the reply's destination and NHSD-Target-Identifier
    correlation_id: str  # BarsOrigin.correlation_id: the conversation's X-Correlation-ID
    at: datetime  # when it happened (the decision, the assignment, the closure)
    signpost: SignpostIdentity
    sender_ods: str | None = None  # BarsOrigin.sender_ods: the referrer organisation, the reply's receiver
    rejection_code: RejectionCode | None = None
    note: str | None = None
    reason: MessageReason | None = None  # default: `update` for completed, `new` otherwise
    nhs_number: str | None = None  # only if the referrer's system needs it to find the person; else left out

    def __post_init__(self) -> None:
        if self.status == "rejected" and self.rejection_code is None:
            raise ValueError(
                f"referral {self.referral_id}: a rejected BaRS reply needs rejection_code from {REJECTED_REASONS} "
                "(RRNA, FC or OTH)"
            )
        if self.status != "rejected" and self.rejection_code is not None:
            raise ValueError(f"referral {self.referral_id}: rejection_code is only for a rejected reply")
        if self.rejection_code == "OTH" and not self.note_text:
            raise ValueError(
                f"referral {self.referral_id}: rejection code OTH needs a note saying why (BaRS requires the text)"
            )
        if self.at.tzinfo is None:
            raise ValueError(f"referral {self.referral_id}: `at` must be timezone-aware")

    @property
    def note_text(self) -> str | None:
        return display_text(self.note, NOTE_LIMIT)

    @property
    def message_reason(self) -> MessageReason:
        return self.reason or ("update" if self.status == "completed" else "new")


def servicerequest_response(reply: BarsReply, *, message_id: str, now: datetime) -> dict[str, Any]:
    """The message Bundle for `reply` as JSON-ready data, validated as a FHIR R4 (R4B) Bundle.

    message_id: a UUID, the new message's MessageHeader.id and Bundle.id (the same, so a response to it finds it by
    either rule). now: Bundle.timestamp, when the message was assembled. Raises ValueError if message_id is not a UUID.
    """
    header_id = str(uuid.UUID(message_id))
    urls = {role: f"urn:uuid:{uuid.uuid5(_ENTRY_NAMESPACE, f'{header_id}/{role}')}" for role in ("sr", "us", "them")}
    updated = _instant(reply.at)
    entries = [
        {"fullUrl": f"urn:uuid:{header_id}", "resource": _header(reply, header_id, urls, updated)},
        {"fullUrl": urls["sr"], "resource": _service_request(reply, updated)},
        {"fullUrl": urls["us"], "resource": _signpost(reply.signpost, updated)},
        {"fullUrl": urls["them"], "resource": _referrer(reply.sender_ods, updated)},
    ]
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": header_id,
            "meta": {"lastUpdated": updated, "profile": [BUNDLE_PROFILE]},
            "type": "message",
            "timestamp": _instant(now),
            "entry": entries,
        }
    )
    result: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def as_json(bundle: dict[str, Any]) -> str:
    """The Bundle as the text a delivery stores and sends: compact, key order kept, so a rebuild is byte-identical."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


def _header(reply: BarsReply, header_id: str, urls: dict[str, str], updated: str) -> dict[str, Any]:
    us = reply.signpost
    source: dict[str, Any] = {"name": us.service_name, "software": us.software, "endpoint": us.endpoint}
    if us.version:
        source["version"] = us.version
    return {
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": {"lastUpdated": updated, "profile": [HEADER_PROFILE]},
        "eventCoding": {"system": MESSAGE_EVENTS, "code": RESPONSE_EVENT},
        "destination": [{"endpoint": reply.source_endpoint, "receiver": {"reference": urls["them"]}}],
        "sender": {"reference": urls["us"]},
        "source": source,
        "reason": {"coding": [{"system": MESSAGE_REASONS, "code": reply.message_reason}]},
        "response": {"identifier": reply.request_message_id, "code": "ok"},
        "focus": [{"reference": urls["sr"]}],
        "definition": DEFINITION,
    }


def _service_request(reply: BarsReply, updated: str) -> dict[str, Any]:
    subject: dict[str, Any] = (
        {"type": "Patient", "identifier": {"system": NHS_NUMBER, "value": reply.nhs_number}}
        if reply.nhs_number
        else {"type": "Patient", "display": f"the person in referral message {reply.request_message_id}"}
    )
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": reply.referral_id,
        "meta": {"lastUpdated": updated, "profile": [SERVICE_REQUEST_PROFILE]},
        "identifier": [{"system": REFERRAL_IDENTIFIER, "value": reply.referral_id}],
        "status": SERVICE_REQUEST_STATUS[reply.status],
        "intent": "plan",
        "category": [
            {"coding": [{"system": SERVICE_REQUEST_CATEGORY, "code": "referral", "display": "Transfer of Care"}]}
        ],
        # The service, SNOMED CT coded as NHS England asks primary care to record it (intake's adapters/codes.py).
        "code": {"coding": [{"system": SNOMED, "code": SOCIAL_PRESCRIBING_REFERRAL, "display": SOCIAL_PRESCRIBING}]},
        "subject": subject,
    }
    note = reply.note_text
    if reply.rejection_code is not None:
        coding = {
            "system": REJECTED_REASONS,
            "code": reply.rejection_code,
            "display": REJECTION_DISPLAY[reply.rejection_code],
        }
        resource["reasonCode"] = [{"coding": [coding], **({"text": note} if note else {})}]
    elif note:
        resource["note"] = [{"time": updated, "text": note}]
    return resource


def _signpost(us: SignpostIdentity, updated: str) -> dict[str, Any]:
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "meta": {"lastUpdated": updated, "profile": [ORGANIZATION_PROFILE]},
        "name": us.service_name,
    }
    if us.ods_code:
        organization["identifier"] = [{"system": ODS_ORGANISATION, "value": us.ods_code}]
    return organization


def _referrer(ods_code: str | None, updated: str) -> dict[str, Any]:
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "meta": {"lastUpdated": updated, "profile": [ORGANIZATION_PROFILE]},
    }
    # FHIR org-1: an Organization has a name or an identifier; the referrer's name is not Signpost's to restate.
    if ods_code:
        organization["identifier"] = [{"system": ODS_ORGANISATION, "value": ods_code}]
    else:
        organization["name"] = "Referring organisation"
    return organization


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps in a BaRS message must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# What each outcome tells a BaRS referrer. Waiting for a connector is still an acceptance: the referral is
# Signpost's now. Later news about an accepted referral is an `update` of the first answer.
_STATUS_OF_OUTCOME: dict[str, tuple[BarsStatus, MessageReason]] = {
    "assigned": ("accepted", "new"),
    "waitlisted": ("accepted", "new"),
    "linked": ("accepted", "new"),
    "declined": ("rejected", "new"),
    "redirected": ("rejected", "new"),
    "assigned-from-waitlist": ("accepted", "update"),
    "first-contact": ("accepted", "update"),
    "closed": ("completed", "update"),
}
_CLOSURE_WORDS = {
    "goals-met": "the person met the goals they set",
    "connected-onward": "the person was connected to community groups or services",
    "disengaged": "the person stopped taking part",
    "declined": "the person decided not to go on",
    "moved-away": "the person moved out of the area",
    "other": "another reason",
}


def _note(outcome: Outcome) -> str:
    """One plain line saying what happened, built from Signpost's own words (bounded again by BarsReply)."""
    if outcome.kind == "assigned":
        return f"Accepted: a {outcome.connector_kind or 'community'} connector is assigned and will contact the person."
    if outcome.kind == "waitlisted":
        place = f" (number {outcome.waitlist_position} in the queue)" if outcome.waitlist_position else ""
        return f"Accepted: the person is waiting for a connector to be free{place}; a further update will follow."
    if outcome.kind == "assigned-from-waitlist":
        return "A connector is now assigned and will contact the person."
    if outcome.kind == "first-contact":
        return "The connector has reached the person and support has started."
    if outcome.kind == "linked":
        return "The person is already supported by the service; this referral has been added to their support."
    if outcome.kind == "redirected":
        where = outcome.redirect_service or "another service"
        contact = f" ({outcome.redirect_contact})" if outcome.redirect_contact else ""
        urgent = "URGENT: " if outcome.urgent else ""
        return f"{urgent}Not for this service: please refer to {where}{contact}. {outcome.summary or ''}".strip()
    if outcome.kind == "declined":
        reasons = "; ".join(outcome.reasons)
        return f"Declined: {outcome.summary or 'not eligible for this service'}. {reasons}".strip()
    if outcome.kind == "closed":
        sessions = f"{outcome.sessions_used} session(s)" if outcome.reached else "the person could not be reached"
        why = _CLOSURE_WORDS.get(outcome.closure_reason or "other", "another reason")
        onward = f" Connected to: {', '.join(outcome.onward)}." if outcome.onward else ""
        return f"Support has ended because {why}; {sessions}.{onward}"
    return outcome.summary or outcome.kind


def compose_response(
    outcome: Outcome, contact: ReferrerContact, key: str, destination: str, signpost: SignpostIdentity
) -> str:
    """The servicerequest-response Bundle (JSON) answering `contact`'s BaRS referral about `outcome`, to `destination`.

    Composed once when its delivery is created, with the delivery's notification id as the message id, so
    every retry sends the same bytes.
    """
    conversation = contact.bars
    if conversation is None or outcome.kind not in _STATUS_OF_OUTCOME:
        raise ValueError(f"referral {outcome.referral_id}: no BaRS response for a {outcome.kind} outcome")
    status, reason = _STATUS_OF_OUTCOME[outcome.kind]
    reply = BarsReply(
        status=status,
        referral_id=outcome.referral_id,
        request_message_id=conversation.message_id,
        source_endpoint=destination,
        correlation_id=conversation.correlation_id,
        at=outcome.occurred_at,
        signpost=signpost,
        sender_ods=conversation.sender_ods,
        rejection_code="OTH" if status == "rejected" else None,
        note=_note(outcome),
        reason=reason,
    )
    return as_json(servicerequest_response(reply, message_id=str(notification_id(key)), now=outcome.occurred_at))
