"""Each form of the case page: its fields, its request (the case API's), and the use case it calls.

Page field ids are `<form>-<field>`; templates/case_forms.html draws the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral_intake.case_service import CaseService
from referral_intake.cases import page_forms as read
from referral_intake.cases.page_forms import ENTER_TIME, ActionForm
from referral_intake.cases.requests import (
    ClosureRequest,
    ContactRequest,
    ExtensionRequest,
    GoalsRequest,
    HandoverRequest,
    MeasuresRequest,
    ReassignmentRequest,
    SessionRequest,
)
from referral_intake.domain.measures import ONS4_ITEMS
from referral_intake.ports import IntakeWork
from signpost_runtime.auth import Principal

GOAL_BOXES = ("goals-1", "goals-2", "goals-3")
UCLA3_BOXES = ("measures-ucla3-1", "measures-ucla3-2", "measures-ucla3-3")
ONS4_BOXES = {item: f"measures-ons4-{item.replace('_', '-')}" for item in ONS4_ITEMS}
ANSWER_OR_NONE = "Choose one of the answers, or none if the person did not answer"
WHOLE_NUMBER = "Enter a whole number from 0 to 10, or leave it blank if the person did not answer"


def _contact(posted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "mode": read.choice(posted, "contact-mode"),
        "outcome": read.choice(posted, "contact-outcome"),
        "at": read.time(posted, "contact-at"),
    }


async def _record_contact(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: ContactRequest
) -> object:
    return await service.record_contact(unit, referral_id, principal, mode=body.mode, outcome=body.outcome, at=body.at)


def _goals(posted: Mapping[str, str]) -> dict[str, Any]:
    return {"goals": [goal for box in GOAL_BOXES if (goal := read.text(posted, box))]}


async def _set_goals(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: GoalsRequest
) -> object:
    return await service.set_goals(unit, referral_id, principal, goals=body.goals)


def _session(posted: Mapping[str, str]) -> dict[str, Any]:
    return {"mode": read.choice(posted, "session-mode"), "at": read.time(posted, "session-at")}


async def _record_session(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: SessionRequest
) -> object:
    return await service.record_session(unit, referral_id, principal, mode=body.mode, at=body.at)


def _extension(posted: Mapping[str, str]) -> dict[str, Any]:
    return {"new_goal": read.text(posted, "extension-new-goal"), "reason": read.text(posted, "extension-reason")}


async def _request_extension(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: ExtensionRequest
) -> object:
    return await service.request_extension(unit, referral_id, principal, new_goal=body.new_goal, reason=body.reason)


def _measures(posted: Mapping[str, str]) -> dict[str, Any]:
    ucla3 = [read.number(posted, box) for box in UCLA3_BOXES]
    ons4 = {item: read.number(posted, box) for item, box in ONS4_BOXES.items()}
    return {
        "stage": read.choice(posted, "measures-stage"),
        "ucla3": ucla3 if any(answer is not None for answer in ucla3) else None,
        "ons_loneliness": read.choice(posted, "measures-ons-loneliness"),
        "ons4": ons4 if any(answer is not None for answer in ons4.values()) else None,
    }


async def _record_measures(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: MeasuresRequest
) -> object:
    return await service.record_measures(
        unit,
        referral_id,
        principal,
        stage=body.stage,
        ucla3=body.ucla3,
        ons_loneliness=body.ons_loneliness,
        ons4=body.ons4.answers() if body.ons4 else None,
    )


def _closure(posted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "reason": read.choice(posted, "closure-reason"),
        "onward": read.lines(posted, "closure-onward"),
        "note": read.text(posted, "closure-note") or None,
    }


async def _close(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: ClosureRequest
) -> object:
    return await service.close(unit, referral_id, principal, reason=body.reason, onward=body.onward, note=body.note)


def _handover(posted: Mapping[str, str]) -> dict[str, Any]:
    return {"to": "volunteer"}


async def _request_handover(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: HandoverRequest
) -> object:
    return await service.request_handover(unit, referral_id, principal)


def _reassignment(posted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "connector_id": read.text(posted, "reassignment-connector-id") or None,
        "reason": read.text(posted, "reassignment-reason"),
    }


async def _request_reassignment(
    service: CaseService, unit: IntakeWork, referral_id: str, principal: Principal, body: ReassignmentRequest
) -> object:
    return await service.request_reassignment(
        unit, referral_id, principal, reason=body.reason, connector_id=body.connector_id
    )


FORMS: dict[str, ActionForm] = {
    form.name: form
    for form in (
        ActionForm(
            "contact",
            ContactRequest,
            _contact,
            _record_contact,
            {
                "mode": ("contact-mode", "Select how you tried to make contact"),
                "outcome": ("contact-outcome", "Select what happened"),
                "at": ("contact-at", ENTER_TIME),
            },
        ),
        ActionForm(
            "goals",
            GoalsRequest,
            _goals,
            _set_goals,
            {"goals": ("goals-1", "Enter at least one of the person's goals")},
            filled={"goals": GOAL_BOXES},
        ),
        ActionForm(
            "session",
            SessionRequest,
            _session,
            _record_session,
            {"mode": ("session-mode", "Select how the session was held"), "at": ("session-at", ENTER_TIME)},
        ),
        ActionForm(
            "extension",
            ExtensionRequest,
            _extension,
            _request_extension,
            {
                "new_goal": ("extension-new-goal", "Enter the new goal the person has set"),
                "reason": ("extension-reason", "Enter why more sessions would help"),
            },
        ),
        ActionForm(
            "measures",
            MeasuresRequest,
            _measures,
            _record_measures,
            {
                "stage": ("measures-stage", "Select whether these are the baseline or the closing measures"),
                **{f"ucla3.{i}": (box, ANSWER_OR_NONE) for i, box in enumerate(UCLA3_BOXES)},
                "ucla3": (UCLA3_BOXES[0], ANSWER_OR_NONE),
                "ons_loneliness": ("measures-ons-loneliness", ANSWER_OR_NONE),
                **{f"ons4.{item}": (box, WHOLE_NUMBER) for item, box in ONS4_BOXES.items()},
                "ons4": (ONS4_BOXES["life_satisfaction"], WHOLE_NUMBER),
            },
        ),
        ActionForm(
            "handover",
            HandoverRequest,
            _handover,
            _request_handover,
            {"to": ("handover", "Send the form again from the case page")},
        ),
        ActionForm(
            "reassignment",
            ReassignmentRequest,
            _reassignment,
            _request_reassignment,
            {
                "connector_id": ("reassignment-connector-id", "Enter a connector's roster id, or leave it blank"),
                "reason": ("reassignment-reason", "Enter why the case is being reassigned"),
            },
        ),
        ActionForm(
            "closure",
            ClosureRequest,
            _closure,
            _close,
            {
                "reason": ("closure-reason", "Select why support is ending"),
                "onward": ("closure-onward", "Enter each group or service on a line of its own"),
                "note": ("closure-note", "Enter a shorter note"),
            },
        ),
    )
}
