"""The referral's status as a FHIR R4 Task, in the style of Gravity SDOH referral management.

`intent=order`, `focus` the ServiceRequest, `status` requested / accepted / in-progress / completed
or rejected / failed / cancelled / entered-in-error, the finer state in `businessStatus`, why in
`statusReason`. Outcomes are typed `Task.output`s, each `type` a code of Signpost's case-output
CodeSystem: `goal`, `sessions-used`, `ucla3-total-<stage>`, `ons-loneliness-<stage>`,
`ons4-<item>-<stage>` (stage baseline or closing), `onward-connection`, and `linked-referral` (the
open referral a linked one follows, as a reference), besides the redirect's `Redirected to`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.task import Task

from referral_intake.adapters.codes import (
    BUSINESS_STATUS,
    CASE_OUTPUT,
    NHS_NUMBER,
    ODS_ORGANISATION,
    SERVICE_IDENTIFIER,
    SERVICE_IDENTIFIER_SYSTEM,
)
from referral_intake.domain.referral import StoredReferral
from referral_intake.domain.task import last_modified
from referral_intake.domain.task_status import TaskOutput, TaskState

TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
_DISPLAY = {
    "assigned": "Assigned to a community connector",
    "waitlisted": "Eligible, on the waiting list",
    "declined": "Declined",
    "redirected": "Redirected to another service",
    "linked": "Linked to the person's open referral",
    "support-started": "Support started",
    "could-not-contact": "Could not contact the person",
    "declined-by-person": "Declined by the person",
    "closed": "Support ended",
    "withdrawn": "Withdrawn by the referrer",
    "entered-in-error": "Entered in error",
}
_OUTPUTS = {
    "goal": "The person's goal",
    "sessions-used": "Sessions used",
    "onward-connection": "Connected to",
    "linked-referral": "Follows the person's open referral",
}


def task_resource(referral: StoredReferral, state: TaskState, last_updated: datetime | None = None) -> dict[str, Any]:
    """meta.lastUpdated is when intake last recorded a change to the Task (what _lastUpdated searches: the task index);
    lastModified is when the latest thing that changed it happened. Without `last_updated`, both are the latter."""
    modified = last_modified(state, referral.received_at)
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": referral.task_id,
        "meta": {"lastUpdated": _instant(last_updated or modified)},
        "status": state.status,
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODES, "code": "fulfill", "display": "Fulfill the focal request"}]},
        "focus": {"reference": f"ServiceRequest/{referral.id}"},
        "for": _patient(referral),
        "authoredOn": _instant(referral.received_at),
        "lastModified": _instant(modified),
        "requester": {"identifier": {"system": ODS_ORGANISATION, "value": referral.requester_ods}},
        "owner": {
            "identifier": {"system": SERVICE_IDENTIFIER_SYSTEM, "value": SERVICE_IDENTIFIER},
            "display": "Signpost community connector service",
        },
    }
    if state.business_status:
        coding = {"system": BUSINESS_STATUS, "code": state.business_status, "display": _DISPLAY[state.business_status]}
        task["businessStatus"] = {"coding": [coding], "text": state.business_status}
    if state.note:
        task["note"] = [{"text": state.note}]
    if state.reason:
        task["statusReason"] = {"text": state.reason}
    outputs = [_output(output) for output in state.outputs]
    if state.redirect_service:
        where = state.redirect_service + (f" ({state.redirect_contact})" if state.redirect_contact else "")
        outputs.append({"type": {"text": "Redirected to"}, "valueString": where})
    if state.linked_to:
        outputs.append(
            {
                "type": _output_type("linked-referral"),
                "valueReference": {"reference": f"ServiceRequest/{state.linked_to}"},
            }
        )
    if outputs:
        task["output"] = outputs
    model = Task.model_validate(task)
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def _output(output: TaskOutput) -> dict[str, Any]:
    value = {"valueInteger": output.value} if isinstance(output.value, int) else {"valueString": output.value}
    return {"type": _output_type(output.code), **value}


def _output_type(code: str) -> dict[str, Any]:
    return {"coding": [{"system": CASE_OUTPUT, "code": code, "display": _display(code)}], "text": _display(code)}


def _display(code: str) -> str:
    if code in _OUTPUTS:
        return _OUTPUTS[code]
    measure, _, stage = code.rpartition("-")  # ucla3-total-baseline, ons4-life-satisfaction-closing
    scale, _, item = measure.partition("-")
    name = {"ucla3": "UCLA-3 loneliness", "ons": "ONS", "ons4": "ONS4"}.get(scale, scale)
    return f"{name} {item.replace('-', ' ')} at {stage}"


def _patient(referral: StoredReferral) -> dict[str, Any]:
    if referral.nhs_number:
        return {"identifier": {"system": NHS_NUMBER, "value": referral.nhs_number}}
    return {"display": f"The person referred in ServiceRequest/{referral.id}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()
