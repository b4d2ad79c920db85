"""Reading a FHIR JSON request body safely: media type, encoding, syntax and nesting depth.

Its size the kit's edge has limited already (max_body_bytes): a body over it never reaches a route.
"""

from __future__ import annotations

import json
import re
from typing import Any

from referral_intake.adapters.outcome import FhirError, Issue
from referral_intake.domain.text import UNSTORABLE

ACCEPTED_MEDIA_TYPES = ("application/fhir+json", "application/json")
_R4_VERSIONS = ("4.0", "4.0.1")
_ELEMENT_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_MAX_TEXT_ISSUES = 20


def check_media_type(content_type: str | None) -> None:
    media_type, *parameters = [part.strip() for part in (content_type or "").split(";")]
    if media_type.lower() not in ACCEPTED_MEDIA_TYPES:
        shown = f"'{media_type}'" if media_type else "no Content-Type"
        raise FhirError.single(
            415,
            "not-supported",
            f"request body sent as {shown}; send FHIR R4 JSON with 'Content-Type: application/fhir+json'",
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "fhirversion" and value.strip() not in _R4_VERSIONS:
            raise FhirError.single(
                415,
                "not-supported",
                f"fhirVersion={value.strip()} is not supported; this endpoint takes FHIR R4 (fhirVersion=4.0)",
            )


def parse_json(body: bytes, max_depth: int) -> dict[str, Any]:
    if not body.strip():
        raise FhirError.single(400, "required", "request body is empty; send a FHIR R4 ServiceRequest as JSON")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FhirError.single(
            400, "invalid", f"request body is not UTF-8 (byte {exc.start}); FHIR JSON is UTF-8"
        ) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep(max_depth, "request body") from None
    except json.JSONDecodeError as exc:
        raise FhirError.single(
            400, "invalid", f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise FhirError.single(400, "invalid", f"request body is not valid JSON: {exc}") from None
    return check_document(data, max_depth, "request body")


def check_document(data: Any, max_depth: int, what: str) -> dict[str, Any]:
    """Parsed JSON (a request body, an inbound message's data) that Signpost can take as a FHIR resource."""
    if _depth_exceeds(data, max_depth):
        raise _too_deep(max_depth, what)
    if not isinstance(data, dict):
        raise FhirError.single(400, "structure", f"{what} must be a JSON object (a FHIR resource)")
    problems = unstorable_text(data)
    if problems:
        raise FhirError(problems)
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON; FHIR decimals must be finite numbers")


def _too_deep(max_depth: int, what: str) -> FhirError:
    return FhirError.single(
        400, "structure", f"{what} nests JSON more than {max_depth} levels deep; no FHIR resource needs that"
    )


def _depth_exceeds(data: Any, max_depth: int) -> bool:
    # Iterative, so a hostile document cannot exhaust the stack here either.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


def unstorable_text(data: dict[str, Any]) -> list[Issue]:
    """One issue per string (property names included) holding a NUL or a lone surrogate, with its FHIRPath."""
    kind = data.get("resourceType")
    root = kind if isinstance(kind, str) and _ELEMENT_NAME.match(kind) else "Resource"
    issues: list[Issue] = []
    stack: list[tuple[Any, str]] = [(data, root)]
    while stack and len(issues) < _MAX_TEXT_ISSUES:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in reversed(node.items()):
                child_path = f"{path}{_step(key)}"
                if found := UNSTORABLE.search(key):
                    issues.append(_unstorable(child_path, found, "property name"))
                stack.append((child, child_path))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{index}]") for index, child in reversed(list(enumerate(node))))
        elif isinstance(node, str) and (found := UNSTORABLE.search(node)):
            issues.append(_unstorable(path, found, "value"))
    return issues


def _step(key: str) -> str:
    # FHIR puts a primitive's id and extensions in '_name'; FHIRPath calls that element 'name'.
    return f".{key.lstrip('_')}" if _ELEMENT_NAME.match(key) else f"[{json.dumps(key)}]"


def _unstorable(path: str, found: re.Match[str], what: str) -> Issue:
    character = f"\\u{ord(found.group()):04x}"
    why = (
        "a NUL character, which FHIR strings should not contain and Signpost cannot store (it is usually "
        "left by copying from a binary file); remove it and send again"
        if found.group() == "\x00"
        else "half of a UTF-16 surrogate pair, which is not a character on its own; send the whole "
        "character (both halves), or remove it, and send again"
    )
    return Issue("invalid", f"{path}: the {what} contains {character} at position {found.start()}, {why}", path)
