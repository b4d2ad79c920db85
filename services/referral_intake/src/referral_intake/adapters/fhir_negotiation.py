"""Content negotiation (FHIR R4 http.html#mime-type): this endpoint answers in FHIR JSON only.

A client that asks, by `_format` or `Accept`, for something else gets 406 rather than JSON it
said it cannot read. `_format` overrides `Accept`, as the FHIR specification says.
"""

from __future__ import annotations

from fastapi import Request

from referral_intake.adapters.outcome import FhirError

# Full media types and the `_format` short forms the FHIR specification lists for JSON.
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json", "application/json+fhir"})
_JSON_RANGES = _JSON_FORMATS | {"*/*", "application/*"}
_R4_VERSIONS = ("4.0", "4.0.1")
_HOW = "this endpoint answers in FHIR R4 JSON only: send 'Accept: application/fhir+json' (or omit Accept)"


def negotiate(request: Request) -> None:
    """FastAPI dependency: raise 406 when the client will not take FHIR R4 JSON."""
    requested = request.query_params.get("_format")
    if requested is not None:
        # An unencoded '+' in a query string arrives as a space ('application/fhir json').
        shown = requested.strip().replace(" ", "+")
        if shown.partition(";")[0].strip().lower() not in _JSON_FORMATS:
            raise _not_acceptable(f"_format={shown} was asked for, but {_HOW} and use _format=json")
        return
    accept = request.headers.get("accept")
    if accept and not accepts_fhir_json(accept):
        raise _not_acceptable(f"'Accept: {accept}' excludes JSON, but {_HOW}")


def accepts_fhir_json(accept: str) -> bool:
    """Whether any media range in an Accept header takes FHIR R4 JSON (q > 0, an R4 fhirVersion if any)."""
    for media_range in accept.split(","):
        media_type, *parameters = [part.strip() for part in media_range.split(";")]
        if media_type.lower() not in _JSON_RANGES:
            continue
        values = dict(_parameter(p) for p in parameters)
        if _quality(values.get("q")) > 0 and values.get("fhirversion", "4.0") in _R4_VERSIONS:
            return True
    return False


def _parameter(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    return name.strip().lower(), value.strip().strip('"')


def _quality(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0  # an unreadable weight is not a request for this type


def _not_acceptable(diagnostics: str) -> FhirError:
    # BaRS answers 406 with issue code `processing` (406-REC_NOT_ACCEPTABLE-processing).
    return FhirError.single(406, "processing", diagnostics)
