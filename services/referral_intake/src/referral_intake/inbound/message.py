"""An inbound message read into a referral, with the checks the REST route makes, or a precise refusal."""

from __future__ import annotations

from datetime import date

from referral_intake.adapters.fhir_body import check_document
from referral_intake.adapters.fhir_request import submission_from_resource
from referral_intake.adapters.outcome import FhirError
from referral_intake.bars.message import HEADER, read_message
from referral_intake.bars.referral import submission_of
from referral_intake.domain.referral import ReferralSubmission
from signpost_contracts import INBOUND_REFERRAL_TYPE, EventEnvelope

_SHOWN = 100  # of a value the sender chose, in a refusal: enough to recognise it


def read_inbound(event: EventEnvelope, *, max_depth: int, today: date) -> ReferralSubmission:
    """The referral the message carries, or FhirError.

    data: a self-contained FHIR R4 ServiceRequest, or a BaRS message Bundle (servicerequest-request, reason
    `new`) read by the very rules of `POST /fhir/$process-message`; its responses go back by BaRS to the
    message's source.endpoint, in the conversation the CloudEvent's correlation id names.
    """
    if event.type != INBOUND_REFERRAL_TYPE:
        raise FhirError.single(
            400,
            "not-supported",
            f"ce_type '{event.type[:_SHOWN]}' is not taken on the inbound topic; send a referral with ce_type "
            f"'{INBOUND_REFERRAL_TYPE}' and a FHIR R4 ServiceRequest as the message's value",
            "ce_type",
        )
    data = check_document(event.data, max_depth, "the message's value")
    kind = data.get("resourceType")
    if kind == "Bundle":
        message = read_message(data)
        if message.reason != "new":
            raise FhirError.single(
                422,
                "not-supported",
                f"a BaRS '{message.reason}' is not taken on the inbound topic, which takes new referrals: send "
                "updates and cancellations to POST /fhir/$process-message, where their answer comes back at once",
                f"{HEADER}.reason",
            )
        return submission_of(message, event.correlationid, today, request_id_sent=True)
    if kind != "ServiceRequest":
        shown = f"'{kind[:_SHOWN]}'" if isinstance(kind, str) else "missing"
        raise FhirError.single(
            400,
            "invalid",
            f"resourceType is {shown}; the inbound topic takes a FHIR R4 ServiceRequest as the message's value",
            "resourceType",
        )
    # The CloudEvents id is this door's retry key (a message sent again keeps its id), as X-Request-ID is
    # REST's: so, as there, a ServiceRequest without an identifier of its own is taken.
    return submission_from_resource(data, today=today, request_id_sent=True)
