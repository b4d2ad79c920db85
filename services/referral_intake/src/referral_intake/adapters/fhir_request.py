"""From an HTTP request to a checked referral: media type, size, JSON, FHIR R4 structure, Signpost rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import Request

from referral_intake.adapters.fhir_body import check_media_type, parse_json, read_limited
from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_validation import validate_service_request
from referral_intake.config import IntakeSettings
from referral_intake.domain.referral import ReferralSubmission


async def read_referral(request: Request, settings: IntakeSettings) -> ReferralSubmission:
    """The referral in the request, or FhirError saying everything that is wrong with it."""
    check_media_type(request.headers.get("content-type"))
    body = await read_limited(request.stream(), request.headers.get("content-length"), settings.max_body_bytes)
    return submission_from_body(body, max_depth=settings.max_json_depth, today=datetime.now(UTC).date())


def submission_from_body(body: bytes, *, max_depth: int, today: date) -> ReferralSubmission:
    data = parse_json(body, max_depth)
    validate_service_request(data)
    return read_submission(data, today)


def correlation_id(request: Request) -> str | None:
    """The sender's correlation id (BaRS sends X-Correlation-ID and X-Request-ID), carried onto our events."""
    return request.headers.get("x-correlation-id") or request.headers.get("x-request-id")
