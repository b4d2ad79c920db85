"""The synchronous answer to an accepted BaRS message: a FHIR response message that carries Signpost's referral.

FHIR messaging's acknowledgement shape, which the BaRS API specification names for the 200 answer of
$process-message (a message Bundle): a MessageHeader whose `response.identifier` is the request's MessageHeader.id
and `response.code` is `ok`, whose focus is Signpost's ServiceRequest, and that ServiceRequest as stored (its `id`
is Signpost's referral id; follow it with GET /fhir/Task?focus=ServiceRequest/<id>). Refusals are OperationOutcomes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from referral_intake.bars.message import MESSAGE_EVENTS, REFERRAL_REQUEST, BarsMessage
from referral_intake.domain.referral import StoredReferral


def acknowledgement(message: BarsMessage, referral: StoredReferral, base_url: str) -> dict[str, Any]:
    referral_url = f"{base_url}/fhir/ServiceRequest/{referral.id}"
    header_url = f"urn:uuid:{uuid.uuid4()}"
    header = {
        "resourceType": "MessageHeader",
        "id": header_url.removeprefix("urn:uuid:"),
        "eventCoding": {"system": MESSAGE_EVENTS, "code": REFERRAL_REQUEST},
        "destination": [{"endpoint": message.source_endpoint}],
        "source": {"name": "Signpost referral intake", "endpoint": f"{base_url}/fhir/$process-message"},
        "response": {"identifier": message.message_id, "code": "ok"},
        "focus": [{"reference": referral_url}],
    }
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "message",
            "timestamp": datetime.now(UTC).isoformat(),
            "entry": [
                {"fullUrl": header_url, "resource": header},
                {"fullUrl": referral_url, "resource": referral.resource},
            ],
        }
    )
    result: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result
