"""What intake's OpenAPI document says about its FHIR routes: FHIR JSON in and out, OperationOutcome errors."""

from __future__ import annotations

import functools
from typing import Any

from referral_intake.adapters.fhir_body import ACCEPTED_MEDIA_TYPES
from referral_intake.adapters.fhir_request import MAX_CORRELATION_ID
from referral_intake.adapters.fhir_search import MAX_COUNT, TASK_STATUSES
from referral_intake.adapters.fhir_search_values import CURSOR, DATE, TOKEN_LIST
from referral_intake.adapters.outcome import FHIR_JSON
from signpost_runtime.openapi import problem_responses

OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A FHIR R4 OperationOutcome shaped like the NHS BaRS receiver examples",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
outcome_responses = functools.partial(problem_responses, media_type=FHIR_JSON, schema_name="OperationOutcome")
READ_ERRORS = outcome_responses(401, 403, 404, 503)
FOCUS = {
    "name": "focus",
    "in": "query",
    "description": "The referral the Task follows: ServiceRequest/<id>, an absolute URL ending in it, or the id",
    # What fhir_search.referral_of_focus takes: a bare id, or a path whose last but one segment is ServiceRequest
    # (trailing slashes aside); no control characters, as everywhere (request_checks).
    "schema": {
        "type": "string",
        "minLength": 1,
        "pattern": r"^(?:(?:[^\x00-\x1f\x7f]*/)?ServiceRequest/[^/\x00-\x1f\x7f]+|[^/\x00-\x1f\x7f]+)/*$",
    },
}
BARS_HEADERS = [
    {
        "name": "X-Request-ID",
        "in": "header",
        "description": "BaRS: a new UUID for each request, the same one on its retries (a repeat is answered 409)",
        "schema": {"type": "string", "format": "uuid"},
    },
    {
        "name": "X-Correlation-ID",
        "in": "header",
        "description": "BaRS: the conversation this request belongs to, carried onto Signpost's events",
        "schema": {"type": "string", "maxLength": MAX_CORRELATION_ID},
    },
]

# On $process-message BaRS makes both required (400 without either).
BARS_REQUIRED_HEADERS = [{**header, "required": True} for header in BARS_HEADERS]


# The elements FHIR R4 makes mandatory (cardinality 1..1) in the resources these routes take or answer.
_MANDATORY = {
    "ServiceRequest": ["status", "intent", "subject"],
    "Task": ["status", "intent"],
    "Bundle": ["type"],
    "CapabilityStatement": ["status", "date", "kind", "fhirVersion", "format"],
}


def fhir_resource(resource_type: str) -> dict[str, Any]:
    """The OpenAPI schema of a FHIR resource of one type: its type and R4's mandatory elements.

    The rest of R4's schema, and Signpost's own rules for a referral, are checked by the route and
    reported element by element in the OperationOutcome; they are not repeated here.
    """
    return {
        "type": "object",
        "required": ["resourceType", *_MANDATORY.get(resource_type, [])],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}},
    }


def fhir_success(status: int, description: str, resource_type: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": description, "content": {FHIR_JSON: {"schema": fhir_resource(resource_type)}}}}


def fhir_request_body(resource_type: str) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a FHIR resource from its body itself (not through FastAPI)."""
    content = {media_type: {"schema": fhir_resource(resource_type)} for media_type in ACCEPTED_MEDIA_TYPES}
    return {"requestBody": {"required": True, "content": content}}


# The kit describes the statuses every service answers; 412 only the withdrawal routes do.
PRECONDITION_FAILED: dict[int | str, dict[str, Any]] = {
    412: {
        "description": "If-Match names a version that is no longer the current one: read the referral again",
        "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}},
    }
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "description": 'The ETag of the version the change was made to, e.g. W/"1"; without it, any version',
    "schema": {"type": "string"},
}
JSON_PATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json-patch+json": {
                "schema": {
                    "type": "array",
                    "description": 'JSON Patch (RFC 6902): [{"op": "replace", "path": "/status", "value": "revoked"}]',
                    "minItems": 1,
                    # RFC 6902's operations; `from` for move and copy. JSON Pointer paths (RFC 6901).
                    "items": {
                        "type": "object",
                        "required": ["op", "path"],
                        "properties": {
                            "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                            "path": {"type": "string", "pattern": "^(/([^~/]|~[01])*)*$"},
                            "from": {"type": "string", "pattern": "^(/([^~/]|~[01])*)*$"},
                            "value": {},
                        },
                    },
                }
            }
        },
    }
}


# FHIR search parameters, each pattern the one its value is read with (adapters/fhir_search_values.py).
def _token_parameter(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    schema = {"type": "string", "pattern": TOKEN_LIST}
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


IDENTIFIER = _token_parameter(
    "identifier",
    "ServiceRequest.identifier as system|value, value (any system), |value (no system) or system| (any value); "
    "several joined by ',' match any; repeated, all",
    required=True,
)
_STATUS_CODE = f"(?:http://hl7\\.org/fhir/task-status\\|)?(?:{'|'.join(TASK_STATUSES)})"
TASK_SEARCH = [
    FOCUS,
    _token_parameter(
        "owner:identifier",
        "Task.owner.identifier: every Task is owned by this service, "
        "https://signpost.dev/fhir/Id/service|signpost-community-connectors",
    ),
    {
        "name": "status",
        "in": "query",
        "description": "Task status codes (http://hl7.org/fhir/task-status), several joined by ',' match any",
        "schema": {"type": "string", "pattern": f"^{_STATUS_CODE}(?:,{_STATUS_CODE})*$"},
    },
    {
        "name": "_lastUpdated",
        "in": "query",
        "description": "meta.lastUpdated: a prefix (eq, gt, ge, lt, le) then a date or dateTime, of any precision "
        "(2026-12-01 is that UTC day); repeat it for a range (ge...&lt...)",
        "schema": {"type": "array", "items": {"type": "string", "pattern": DATE}},
        "style": "form",
        "explode": True,
    },
    {
        "name": "_count",
        "in": "query",
        "description": f"Tasks per page: 50 unless given, at most {MAX_COUNT}; 0 answers the total only",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "_cursor",
        "in": "query",
        "description": "Where the page starts: copy it from the Bundle's next link, never make one up",
        "schema": {"type": "string", "pattern": CURSOR},
    },
]
PREFER = {
    "name": "Prefer",
    "in": "header",
    "description": "handling=lenient: ignore unsupported search parameters (otherwise they are refused, 400)",
    "schema": {"type": "string"},
}
IF_NONE_EXIST = {
    "name": "If-None-Exist",
    "in": "header",
    "description": "Conditional create: a ServiceRequest search (identifier=<system>|<value>); one match is answered "
    "200 with it and nothing is stored, more than one 412",
    "schema": {"type": "string"},
}
CONDITION_FAILED: dict[int | str, dict[str, Any]] = {
    412: {
        "description": "If-None-Exist matches more than one referral, or one the caller may not read: nothing stored",
        "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}},
    }
}
