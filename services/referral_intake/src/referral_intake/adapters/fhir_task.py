"""The referral's status as a FHIR R4 Task, in the style of Gravity SDOH referral management.

`intent=order`, `focus` the ServiceRequest, `status` requested / accepted / rejected, the finer
state in `businessStatus`, and why it was rejected (and where to go instead) in `statusReason`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.task import Task

from referral_intake.adapters.codes import BUSINESS_STATUS, NHS_NUMBER, ODS_ORGANISATION
from referral_intake.domain.referral import StoredReferral
from referral_intake.domain.task_status import TaskState

TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
_DISPLAY = {
    "assigned": "Assigned to a community connector",
    "waitlisted": "Eligible, on the waiting list",
    "declined": "Declined",
    "redirected": "Redirected to another service",
}


def task_resource(referral: StoredReferral, state: TaskState) -> dict[str, Any]:
    modified = max(filter(None, (state.last_changed, referral.received_at)))
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": referral.task_id,
        "meta": {"lastUpdated": _instant(modified)},
        "status": state.status,
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODES, "code": "fulfill", "display": "Fulfill the focal request"}]},
        "focus": {"reference": f"ServiceRequest/{referral.id}"},
        "for": _patient(referral),
        "authoredOn": _instant(referral.received_at),
        "lastModified": _instant(modified),
        "requester": {"identifier": {"system": ODS_ORGANISATION, "value": referral.requester_ods}},
        "owner": {"display": "Signpost community connector service"},
    }
    if state.business_status:
        coding = {"system": BUSINESS_STATUS, "code": state.business_status, "display": _DISPLAY[state.business_status]}
        task["businessStatus"] = {"coding": [coding], "text": state.business_status}
    if state.note:
        task["note"] = [{"text": state.note}]
    if state.reason:
        task["statusReason"] = {"text": state.reason}
    if state.redirect_service:
        where = state.redirect_service + (f" ({state.redirect_contact})" if state.redirect_contact else "")
        task["output"] = [{"type": {"text": "Redirected to"}, "valueString": where}]
    model = Task.model_validate(task)
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def searchset(tasks: list[dict[str, Any]], base_url: str, self_url: str) -> dict[str, Any]:
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(tasks),
            "link": [{"relation": "self", "url": self_url}],
            "entry": [
                {"fullUrl": f"{base_url}/fhir/Task/{task['id']}", "resource": task, "search": {"mode": "match"}}
                for task in tasks
            ],
        }
    )
    result: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def _patient(referral: StoredReferral) -> dict[str, Any]:
    if referral.nhs_number:
        return {"identifier": {"system": NHS_NUMBER, "value": referral.nhs_number}}
    return {"display": f"The person referred in ServiceRequest/{referral.id}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()
