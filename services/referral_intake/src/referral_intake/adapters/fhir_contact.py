"""The contact card of a stored referral, read from its ServiceRequest (FHIR R4) as it was received.

Where each part comes from:
- name, telecom, address, language, interpreter: the Patient the ServiceRequest's subject references
  (a contained Patient): `name` (official, else usual, else the first; its text, else prefix, given and
  family), `telecom` (preferred first: ContactPoint.rank 1 is the most preferred, unranked last, in
  the order sent), `address` (home, else the first; its text, else lines, city and postal code),
  `communication` (preferred language) and the interpreter-required extension (as for events).
- first-contact preference: `ServiceRequest.patientInstruction`, R4's "patient or consumer oriented
  instructions", where referrers write how and when the person would like to be contacted.
- reasons: each `reasonCode`'s text, else its first coding's display or code; note: the `note` texts.

A subject given only by NHS number has no contained Patient: the card then holds the reasons alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from referral_intake.adapters.fhir_json import Contained, JsonObject
from referral_intake.adapters.fhir_subject import interpreter_needed, preferred_language_of
from referral_intake.domain.person import ContactCard, ContactPoint

_UNRANKED = 1_000_000


def contact_card(resource: dict[str, Any]) -> ContactCard:
    patient = Contained(resource).resolve((resource.get("subject") or {}).get("reference"))
    reasons = tuple(filter(None, (_concept_text(concept) for concept in resource.get("reasonCode") or [])))
    notes = [str(note["text"]).strip() for note in resource.get("note") or [] if note.get("text")]
    card = ContactCard(
        first_contact_preference=_text(resource.get("patientInstruction")),
        reasons=reasons,
        note="\n".join(notes) or None,
    )
    if patient is None or patient.type != "Patient":
        return card
    person = patient.resource
    return replace(
        card,
        name=_name(person.get("name") or []),
        telecom=_telecom(person.get("telecom") or []),
        address=_address(person.get("address") or []),
        preferred_language=preferred_language_of(person),
        interpreter_needed=interpreter_needed(person),
    )


def _name(names: list[JsonObject]) -> str | None:
    chosen = next((n for use in ("official", "usual") for n in names if n.get("use") == use), None)
    chosen = chosen or (names[0] if names else None)
    if chosen is None:
        return None
    if chosen.get("text"):
        return str(chosen["text"])
    parts = [*(chosen.get("prefix") or []), *(chosen.get("given") or []), chosen.get("family")]
    return " ".join(str(part) for part in parts if part) or None


def _telecom(points: list[JsonObject]) -> tuple[ContactPoint, ...]:
    usable = [p for p in points if p.get("value") and p.get("system") and p.get("use") != "old"]
    ranked = sorted(usable, key=lambda point: point.get("rank") or _UNRANKED)  # sorted() keeps the sent order
    return tuple(ContactPoint(str(p["system"]), str(p["value"]), p.get("use")) for p in ranked)


def _address(addresses: list[JsonObject]) -> str | None:
    current = [a for a in addresses if a.get("use") != "old"]
    chosen = next((a for a in current if a.get("use") == "home"), current[0] if current else None)
    if chosen is None:
        return None
    if chosen.get("text"):
        return str(chosen["text"])
    parts = [*(chosen.get("line") or []), chosen.get("city"), chosen.get("postalCode")]
    return ", ".join(str(part) for part in parts if part) or None


def _concept_text(concept: JsonObject) -> str | None:
    if concept.get("text"):
        return str(concept["text"])
    coding: JsonObject = next(iter(concept.get("coding") or []), {})
    return _text(coding.get("display") or coding.get("code"))


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value else None
