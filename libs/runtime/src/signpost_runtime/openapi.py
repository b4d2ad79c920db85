"""An OpenAPI document that says what each route really answers.

Routes declare the errors they produce with `responses=problem_responses(401, 403, 404)`. The
document is then corrected where FastAPI's guesses are not what the edge does: the 422
`HTTPValidationError` FastAPI adds to every route with parameters becomes the 400 problem the edge
answers instead; every operation lists the 400 for a malformed path, query or header (the edge
checks every request), and 413 where it takes a body; every string parameter states the edge's
rules for it (no control characters, at most `max_parameter_length` characters); a route that can
answer 401 is marked as needing a bearer token. Error media types and schemas come from the path's
`ErrorShape`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from signpost_runtime.problems import PROBLEM_JSON, RETRY_AFTER_SECONDS, ErrorShapes
from signpost_runtime.request_checks import NO_CONTROLS

DESCRIPTIONS = {
    400: "The request is malformed: a path segment, query parameter or header holds a control character, "
    "text that is not UTF-8 or an over-long value, or a parameter is not valid. The field at fault is named.",
    401: "No bearer token, or one that is expired, badly signed or for another audience.",
    403: "The token is valid but lacks the scope or organisation this needs.",
    404: "There is no such resource that this caller may read.",
    405: "The path does not take this method; the Allow header lists those it does.",
    406: "The Accept header or _format asks for a media type this endpoint does not answer in.",
    409: "The request conflicts with one already received.",
    413: "The request body is larger than this service takes.",
    415: "The request body is not in a media type this endpoint takes.",
    422: "The request is well-formed but cannot be acted on.",
    500: "A fault in the service (never a stack trace).",
    503: "The database, broker or network is failing just now; retry after the Retry-After seconds.",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": f"seconds to wait, {RETRY_AFTER_SECONDS}", "schema": {"type": "integer"}}},
}
_BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def problem_responses(
    *statuses: int, media_type: str = PROBLEM_JSON, schema_name: str = "Problem"
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route for the errors it answers, with their shared descriptions."""
    return {status: error_response(status, media_type, schema_name) for status in statuses}


def page_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an HTML page for the errors it answers as pages of its own."""
    return {
        status: {
            "description": f"{DESCRIPTIONS[status]} An HTML page says so.",
            "content": {"text/html": {"schema": {"type": "string"}}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def error_response(status: int, media_type: str, schema_name: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def install_truthful_openapi(app: FastAPI, shapes: ErrorShapes, *, max_parameter_length: int) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return correct(generate(), shapes, max_parameter_length=max_parameter_length)

    app.openapi = openapi  # type: ignore[method-assign]


def correct(document: dict[str, Any], shapes: ErrorShapes, *, max_parameter_length: int) -> dict[str, Any]:
    """Bring FastAPI's document in line with the edge (idempotent: FastAPI caches what it generated)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for shape in shapes.all():
        schemas.setdefault(shape.schema_name, dict(shape.schema))
    for path, item in document.get("paths", {}).items():
        shape = shapes.shape_for(path)
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                _correct_operation(operation, shape.media_type, shape.schema_name)
                for parameter in operation.get("parameters", ()):
                    if parameter.get("in") in ("path", "query"):
                        _state_text_rules(parameter.get("schema", {}), max_parameter_length)
                if "401" in operation["responses"]:
                    operation.setdefault("security", [{"bearerAuth": []}])
                    components.setdefault("securitySchemes", {})["bearerAuth"] = _BEARER
    if _FASTAPI_VALIDATION not in json.dumps(document.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def _correct_operation(operation: dict[str, Any], media_type: str, schema_name: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    guessed = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if guessed.get("$ref") == _FASTAPI_VALIDATION:
        del responses["422"]  # parameter validation is answered 400 (problems.py), not 422
    responses.setdefault("400", error_response(400, media_type, schema_name))
    if "requestBody" in operation:
        responses.setdefault("413", error_response(413, media_type, schema_name))
    operation["responses"] = dict(sorted(responses.items()))


def _state_text_rules(schema: dict[str, Any], max_length: int) -> None:
    for text in [schema, *schema.get("anyOf", ())]:
        if text.get("type") == "string":
            text.setdefault("pattern", NO_CONTROLS)
            text["maxLength"] = min(text.get("maxLength", max_length), max_length)
