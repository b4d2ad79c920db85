"""Small helpers for walking FHIR JSON that has already passed structural validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Located:
    """A contained resource and its FHIRPath, so errors can point at it."""

    resource: JsonObject
    path: str

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType", ""))


class Contained:
    def __init__(self, resource: JsonObject, root: str = "ServiceRequest") -> None:
        self._by_id: dict[str, Located] = {}
        for index, entry in enumerate(resource.get("contained") or []):
            if isinstance(entry, dict) and entry.get("id"):
                self._by_id.setdefault(str(entry["id"]), Located(entry, f"{root}.contained[{index}]"))
        self.all = list(self._by_id.values())

    def resolve(self, reference: str | None) -> Located | None:
        """The contained resource a local reference ('#id') names, if any."""
        if not reference or not reference.startswith("#"):
            return None
        return self._by_id.get(reference[1:])


def same_system(system: str | None, expected: str) -> bool:
    # Real NHS messages spell identifier systems with varying case ('…/id/ods-organization-code').
    return bool(system) and str(system).rstrip("/").lower() == expected.lower()


def identifiers(resource: JsonObject, system: str, path: str) -> Iterator[tuple[str, str]]:
    """(value, FHIRPath of the value) of each identifier of `resource` in `system`."""
    for index, identifier in enumerate(resource.get("identifier") or []):
        if same_system(identifier.get("system"), system) and identifier.get("value"):
            yield str(identifier["value"]), f"{path}.identifier[{index}].value"


def codings(concepts: list[JsonObject] | None, path: str) -> Iterator[tuple[JsonObject, str]]:
    """Each coding of a list of CodeableConcepts, with its FHIRPath."""
    for index, concept in enumerate(concepts or []):
        for position, coding in enumerate(concept.get("coding") or []):
            yield coding, f"{path}[{index}].coding[{position}]"


def first_telecom(system: str, *resources: JsonObject | None) -> str | None:
    for resource in resources:
        for point in (resource or {}).get("telecom") or []:
            if point.get("system") == system and point.get("value"):
                return str(point["value"])
    return None
