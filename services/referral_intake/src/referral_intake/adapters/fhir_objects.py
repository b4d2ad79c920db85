"""Complex FHIR elements must be JSON objects: fhir.resources would also take a string holding JSON text.

fhir.resources reads a string given for a complex element (a Reference, a CodeableConcept, the
`_status` that holds a primitive's id and extensions...) as JSON text, a convenience of its Python
API. In FHIR JSON such a string is simply wrong, and it did harm both ways: text that is not a JSON
object crashed the library itself, and text that is one passed validation while the mapping, which
reads the body as sent, met a string where it expects an object. Found by the FHIR fuzzer
(tests/fuzz); refused here, naming each element, before the model is built.
"""

from __future__ import annotations

import collections
import functools
import typing
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import BaseModel

from referral_intake.adapters.outcome import Issue

MAX_ISSUES = 20
Model = type[BaseModel]  # a fhir.resources model class


def strings_for_objects(data: dict[str, Any], root: str = "ServiceRequest") -> list[Issue]:
    """One issue per complex element (at any depth, contained resources included) sent as a string."""
    issues: list[Issue] = []
    # Breadth first, so that the issues come in document order.
    pending: collections.deque[tuple[dict[str, Any], Model, str]] = collections.deque([(data, ServiceRequest, root)])
    while pending and len(issues) < MAX_ISSUES:
        node, model, path = pending.popleft()
        elements = _complex_elements(model)
        for name, value in node.items():
            element = elements.get(name)
            if element is None:
                continue
            repeated = isinstance(value, list)
            for index, item in enumerate(value if repeated else [value]):
                where = f"{path}.{name.lstrip('_')}" + (f"[{index}]" if repeated else "")
                if isinstance(item, str):
                    issues.append(_string_issue(where, name, item))
                elif isinstance(item, dict) and (inner := _model_of(element, item)) is not None:
                    pending.append((item, inner, where))
    return issues[:MAX_ISSUES]


def _string_issue(where: str, name: str, value: str) -> Issue:
    shown = repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
    sent = f"'{name}', which holds a primitive's id and extensions," if name.startswith("_") else "it"
    return Issue(
        "structure",
        f"{where} must be a JSON object, not the string {shown}: send {sent} as an object with its fields "
        "directly, not as JSON text inside a string",
        where,
    )


def _model_of(element: Model, item: dict[str, Any]) -> Model | None:
    if element is not Resource:
        return element
    # A contained resource is read as the type it names; an unknown type is refused elsewhere.
    try:
        return get_fhir_model_class(str(item.get("resourceType")))
    except (KeyError, ValueError):
        return None


@functools.cache
def _complex_elements(model: Model) -> dict[str, Model]:
    """The JSON names of the model's complex elements, with the model each one takes."""
    elements = {}
    for name, field in model.model_fields.items():
        element = _model_in(field.annotation)
        if element is not None:
            elements[field.alias or name] = element
    return elements


def _model_in(annotation: Any) -> Model | None:
    # Fields are annotated like Optional[List[abc.ReferenceType]]; the fhir_core type names its model.
    if hasattr(annotation, "get_model_klass"):
        return annotation.get_model_klass()  # type: ignore[no-any-return]
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
