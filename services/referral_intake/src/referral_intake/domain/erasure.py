"""What is left of a referral and its case once the person's identifiers are erased.

Kept: what the service and its counts need (ids, dates, codes, statuses, the referring organisation,
the number of goals, contacts and sessions). Erased: whatever names, locates or describes the person
in words: the contained Patient (name, NHS number, birth date, address, telecom), the subject reference,
and every free-text field, because a referrer or a connector may have written the person's details
into any of them. Pure: no I/O, so the rule is tested directly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from referral_intake.domain.case import Case

# Stands in for erased free text, so the record keeps its shape (three goals stay three goals).
ERASED = "(erased)"

# ServiceRequest elements that carry no person's identifier and no free text; everything else goes.
_KEPT_ELEMENTS = frozenset(
    {
        "resourceType", "id", "meta", "identifier", "status", "intent", "category", "priority", "code",
        "authoredOn", "requester", "performer", "replaces", "basedOn", "occurrenceDateTime", "occurrencePeriod",
    }
)  # fmt: skip
# Contained resources about the person (or someone close to them) go whole; the referring organisation or
# practitioner stays, since `requester` points at it.
_PERSONAL_RESOURCES = frozenset({"Patient", "RelatedPerson", "Person"})


def erased_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """The stored ServiceRequest without the person: still a ServiceRequest with its codes and requester."""
    kept = {key: value for key, value in resource.items() if key in _KEPT_ELEMENTS}
    contained = [
        entry for entry in resource.get("contained") or [] if entry.get("resourceType") not in _PERSONAL_RESOURCES
    ]
    if contained:
        kept["contained"] = contained
    # ServiceRequest.subject is required (1..1): a Reference with only a display keeps the resource valid.
    kept["subject"] = {"display": ERASED}
    # Coded reasons are counts' material; a reason's text is free text.
    concepts = [concept for concept in resource.get("reasonCode") or [] if isinstance(concept, dict)]
    reasons = [{"coding": concept["coding"]} for concept in concepts if concept.get("coding")]
    if reasons:
        kept["reasonCode"] = reasons
    return kept


def erased_case(case: Case) -> Case:
    """The case with every connector's free text replaced: goals, extensions' reasons, closure's onward
    connections and note, refusals' and requests' reasons. Dates, modes, outcomes and measures stay."""
    return replace(
        case,
        goals=tuple(ERASED for _ in case.goals),
        extensions=tuple(replace(e, new_goal=ERASED, reason=ERASED, why=ERASED) for e in case.extensions),
        closure=(
            replace(case.closure, onward=tuple(ERASED for _ in case.closure.onward), note=None)
            if case.closure is not None
            else None
        ),
        refusals=tuple(replace(r, reason=ERASED) for r in case.refusals),
        requests=tuple(replace(r, reason=ERASED if r.reason else None) for r in case.requests),
    )
