"""An inbound message read into a referral, with the checks the REST route makes, or a precise refusal."""

from __future__ import annotations

from datetime import date

from referral_intake.adapters.fhir_body import check_document
from referral_intake.adapters.fhir_request import submission_from_resource
from referral_intake.adapters.outcome import FhirError
from referral_intake.domain.referral import ReferralSubmission
from signpost_contracts import INBOUND_REFERRAL_TYPE, EventEnvelope

_SHOWN = 100  # of a value the sender chose, in a refusal: enough to recognise it


def read_inbound(event: EventEnvelope, *, max_depth: int, today: date) -> ReferralSubmission:
    """The referral the message carries (data: a self-contained FHIR R4 ServiceRequest), or FhirError."""
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
        raise FhirError.single(
            422,
            "not-supported",
            "BaRS message Bundles are not taken on the inbound topic yet: send the ServiceRequest itself as the "
            "message's value, self-contained as POST /fhir/ServiceRequest takes it (its Patient and requester "
            "contained, or the NHS number and the requester's ODS code as identifiers)",
            "Bundle",
        )
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
