"""BaRS test material: the NHS conformance corpus and Signpost's social prescribing example message, made unique."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from support.auth import bearer
from support.fhir_examples import fhir_examples

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bars-social-prescribing-referral.json"
NHS_MESSAGES = fhir_examples("bars-messages")
PROCESS_MESSAGE = "/fhir/$process-message"
REQUESTER_ODS = "G82080"  # the surgery that refers in the example
SENDER = bearer("referrals:write", "referrals:read", ods=REQUESTER_ODS)
_MESSAGE_HEADER_URL = "urn:uuid:c89a8895-56fe-41de-b20b-fab6efa99c99"
_SERVICE_REQUEST_URL = "urn:uuid:236bb75d-90ef-461f-b71e-fde7f899802c"


def social_prescribing_message() -> dict[str, Any]:
    """The example message with fresh Bundle, MessageHeader and ServiceRequest ids: a new referral each call."""
    text = EXAMPLE.read_text()
    text = text.replace(_MESSAGE_HEADER_URL, f"urn:uuid:{uuid.uuid4()}").replace(
        _SERVICE_REQUEST_URL, f"urn:uuid:{uuid.uuid4()}"
    )
    message: dict[str, Any] = json.loads(text)
    message["id"] = str(uuid.uuid4())  # each message has its own Bundle.id, which responses name
    return message


def follow_up(message: dict[str, Any], reason: str, status: str) -> dict[str, Any]:
    """The same referral sent again as an update or delete (a new message, the ServiceRequest's fullUrl unchanged)."""
    again = json.loads(json.dumps(message))
    again["id"] = str(uuid.uuid4())
    header = again["entry"][0]
    header["fullUrl"] = f"urn:uuid:{uuid.uuid4()}"
    header["resource"]["reason"]["coding"][0]["code"] = reason
    service_request(again)["status"] = status
    return again


def service_request(message: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in message["entry"] if e["resource"]["resourceType"] == "ServiceRequest")


def bars_headers(**overrides: str | None) -> dict[str, str]:
    """A new X-Request-ID and X-Correlation-ID (pass one as None to leave it out), with the sender's token."""
    headers: dict[str, str | None] = {
        **SENDER,
        "Content-Type": "application/fhir+json",
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
        **overrides,
    }
    return {name: value for name, value in headers.items() if value is not None}
