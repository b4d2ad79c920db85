"""Structural validation of a ServiceRequest against the FHIR R4 models (`fhir.resources.R4B`).

pydantic's error locations become FHIRPath expressions (`ServiceRequest.contained[0].birthDate`)
and its messages become sentences saying what FHIR expects there. fhir.resources does not check
required code bindings, so the few this endpoint acts on (status, intent, priority) are checked here.
"""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from referral_intake.adapters.fhir_objects import strings_for_objects
from referral_intake.adapters.outcome import FhirError, Issue

ROOT = "ServiceRequest"
MAX_ISSUES = 20
_ELEMENT_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_REQUIRED_BINDINGS = {
    "status": ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"),
    "intent": (
        "proposal",
        "plan",
        "directive",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    ),
    "priority": ("routine", "urgent", "asap", "stat"),
}
_REQUIRED_HINTS = {
    f"{ROOT}.status": "a new referral has status 'active'",
    f"{ROOT}.intent": "a referral has intent 'order'",
    f"{ROOT}.subject": (
        "say who the referral is for: reference a contained Patient ('#<id>') or give an identifier "
        "with the NHS number (system 'https://fhir.nhs.uk/Id/nhs-number')"
    ),
}
_TEMPORAL_HINTS = {
    "Date value": "a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1950-07-31",
    "DateTime value": "a FHIR dateTime, e.g. 2024-05-01 or 2024-05-01T09:30:00+01:00 (a time needs a timezone)",
    "Instant value": "a FHIR instant with a timezone, e.g. 2024-05-01T09:30:00Z",
    "Time value": "a FHIR time, e.g. 09:30:00",
}


def validate_service_request(data: dict[str, Any]) -> Any:
    """The R4B ServiceRequest model of `data`, or FhirError listing every structural problem."""
    resource_type = data.get("resourceType")
    if resource_type != ROOT:
        shown = f"'{resource_type}'" if isinstance(resource_type, str) else "missing"
        raise FhirError.single(
            400,
            "invalid",
            f"resourceType is {shown}; POST /fhir/ServiceRequest takes a FHIR R4 ServiceRequest "
            "(BaRS message Bundles go to $process-message)",
            "resourceType",
        )
    _check_contained(data.get("contained"))
    if strings := strings_for_objects(data):
        raise FhirError(strings)
    try:
        model = ServiceRequest.model_validate(data)
    except ValidationError as exc:
        raise FhirError([_issue(error) for error in exc.errors()[:MAX_ISSUES]]) from None
    _check_bindings(data)
    return model


def fhirpath(loc: tuple[int | str, ...], root: str = ROOT) -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _ELEMENT_NAME.match(part) and part != "root":
            path += f".{part.lstrip('_')}"
    return path


# `contained` holds resources that exist only inside this one (FHIR R4 3.1.0.9.1): never the abstract
# types, and never the infrastructure resources that are not DomainResources (they cannot be contained).
_NOT_CONTAINABLE = frozenset({"Resource", "DomainResource", "Bundle", "Binary", "Parameters"})


def _check_contained(contained: Any) -> None:
    # Unknown resource types make fhir.resources raise a KeyError rather than a ValidationError.
    if not isinstance(contained, list):
        return
    issues = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(contained):
        where = f"{ROOT}.contained[{index}]"
        kind = entry.get("resourceType") if isinstance(entry, dict) else None
        if not isinstance(kind, str):
            issues.append(Issue("required", f"{where} has no resourceType; each contained resource needs one", where))
            continue
        if kind in _NOT_CONTAINABLE:
            issues.append(
                Issue(
                    "invalid", f"{where}.resourceType '{kind}' cannot be contained; contain the resource itself", where
                )
            )
            continue
        try:
            get_fhir_model_class(kind)
        except (KeyError, ValueError):
            issues.append(Issue("invalid", f"{where}.resourceType '{kind}' is not a FHIR R4 resource type", where))
            continue
        if entry.get("contained"):
            # dom-2: a contained resource SHALL NOT contain additional contained resources.
            issues.append(Issue("invariant", f"{where} has contained resources of its own (FHIR dom-2)", where))
        resource_id = entry.get("id")
        if isinstance(resource_id, str) and resource_id in seen:
            issues.append(
                Issue(
                    "invariant",
                    f"{where}.id '{resource_id}' is also the id of contained[{seen[resource_id]}]; each contained "
                    "resource needs its own id, or a reference to it is ambiguous",
                    f"{where}.id",
                )
            )
        elif isinstance(resource_id, str):
            seen[resource_id] = index
    if issues:
        raise FhirError(issues)


def _check_bindings(data: dict[str, Any]) -> None:
    issues = []
    for element, allowed in _REQUIRED_BINDINGS.items():
        value = data.get(element)
        if value is not None and value not in allowed:
            issues.append(
                Issue(
                    "code-invalid",
                    f"{element} '{value}' is not allowed; use one of: {', '.join(allowed)}",
                    f"{ROOT}.{element}",
                )
            )
    if issues:
        raise FhirError(issues)


def _issue(error: Any) -> Issue:
    path = fhirpath(tuple(error["loc"]))
    kind = str(error["type"])
    shown = _shown(error.get("input"))
    if kind.endswith("missing"):
        return Issue("required", f"{path} is required but missing; {_REQUIRED_HINTS.get(path, 'add it')}", path)
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        return Issue(
            "structure",
            f"'{name}' is not an element of FHIR R4 here ({path}); "
            "check the spelling, or remove it if it comes from another FHIR version",
            path,
        )
    if kind in ("json_invalid", "model_type", "dict_type"):
        return Issue("structure", f"{path} must be a JSON object, not {shown}", path)
    if kind == "list_type":
        return Issue("structure", f"{path} repeats, so it must be a JSON array, not {shown}", path)
    if kind == "model_validation_format":
        return Issue("structure", f"{path} must be a single object, not a list", path)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    for prefix, expected in _TEMPORAL_HINTS.items():
        if message.startswith(prefix):
            return Issue("value", f"{path} is {shown}; expected {expected}", path)
    if message.startswith("Any of one field value is expected"):
        return Issue("structure", f"{path}: {_choice_message(message)}", path)
    return Issue("value", f"{path} is {shown}: {message}", path)


def _choice_message(message: str) -> str:
    fields = re.findall(r"'([A-Za-z]+)'", message)
    return f"give only one of {', '.join(fields)}" if fields else message


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
