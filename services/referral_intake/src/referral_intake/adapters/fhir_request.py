"""From an HTTP request to a checked referral: media type, size, JSON, FHIR R4 structure, Signpost rules."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request

from referral_intake.adapters.fhir_body import check_media_type, parse_json
from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_validation import validate_service_request
from referral_intake.adapters.outcome import FhirError
from referral_intake.config import IntakeSettings
from referral_intake.domain.referral import ReferralSubmission

# Carried onto every event the request causes (a Kafka header, and columns downstream): BaRS sends a UUID.
MAX_CORRELATION_ID = 200
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


async def read_referral(request: Request, settings: IntakeSettings, *, request_id: str | None) -> ReferralSubmission:
    """The referral in the request, or FhirError saying everything that is wrong with it."""
    check_media_type(request.headers.get("content-type"))
    body = await request.body()  # within max_body_bytes: the kit's edge answered 413 to anything larger
    today = datetime.now(UTC).date()
    return submission_from_body(
        body, max_depth=settings.max_json_depth, today=today, request_id_sent=request_id is not None
    )


def submission_from_body(
    body: bytes, *, max_depth: int, today: date, request_id_sent: bool = False
) -> ReferralSubmission:
    return submission_from_resource(parse_json(body, max_depth), today=today, request_id_sent=request_id_sent)


def submission_from_resource(data: dict[str, Any], *, today: date, request_id_sent: bool) -> ReferralSubmission:
    """A checked JSON object, validated as an R4 ServiceRequest and read into a referral: every door's one way."""
    validate_service_request(data)
    return read_submission(data, today, request_id_sent=request_id_sent)


def request_id(request: Request) -> str | None:
    """The BaRS X-Request-ID (a UUID, new for each request and the same on its retries), lower-cased."""
    sent = request.headers.get("x-request-id")
    if sent is None:
        return None
    if not _UUID.match(sent.strip()):
        raise FhirError.single(
            400,
            "value",
            f"X-Request-ID '{sent[:60]}' is not a UUID; send a new UUID for each request "
            "(e.g. 1f0c4a3e-5b2d-4c8e-9a7f-3e6d2b1c0a9f) and the same one again only when retrying that request",
        )
    return sent.strip().lower()


def correlation_id(request: Request) -> str | None:
    """The sender's correlation id (BaRS sends X-Correlation-ID and X-Request-ID), carried onto our events."""
    sent = request.headers.get("x-correlation-id")
    if sent is not None and len(sent) > MAX_CORRELATION_ID:
        raise FhirError.single(
            400,
            "value",
            f"X-Correlation-ID is {len(sent)} characters long; send one of at most {MAX_CORRELATION_ID} "
            "(BaRS uses a UUID) and the same one on every request of the same conversation",
            "X-Correlation-ID",
        )
    return sent or request.headers.get("x-request-id")
