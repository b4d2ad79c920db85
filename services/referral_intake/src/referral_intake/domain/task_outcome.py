"""The Task once the case is under way or over: started, could not contact, closed, withdrawn.

Gravity SDOH referral management: `in-progress` once the person was first reached; `completed` when
support ended, with the outcomes in Task.output; `failed` when the service could not complete it
(could not contact the person, or the person declined); `cancelled` when the referrer revoked the
referral, `entered-in-error` when they said it was sent in error. Each says why in statusReason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from referral_intake.domain.case import Case
from referral_intake.domain.measures import ONS4_ITEMS, Measures
from referral_intake.domain.task import TaskOutput, TaskState
from signpost_contracts.vocabulary import ClosureReason, MeasureStage, WithdrawalStatus

CLOSURE_REASONS: dict[ClosureReason, str] = {
    "goals-met": "The person's goals were met.",
    "connected-onward": "The person was connected to community groups or services.",
    "disengaged": "The person stopped taking part in support.",
    "declined": "The person declined support.",
    "moved-away": "The person moved away.",
    "other": "Support ended.",
}


@dataclass(frozen=True)
class Withdrawal:
    """The referrer withdrew the referral (ServiceRequest.status revoked or entered-in-error)."""

    status: WithdrawalStatus
    at: datetime


def case_changed(case: Case | None) -> datetime | None:
    """The time of the latest thing the case records."""
    if case is None:
        return None
    times = [
        case.holding.at if case.holding else None,
        case.goals_set_at,
        case.closure.at if case.closure else None,
        *(c.at for c in case.contacts),
        *(s.at for s in case.sessions),
        *(e.at for e in case.extensions),
        *(m.at for m in case.measures),
    ]
    return max(filter(None, times), default=None)


def withdrawn_task(withdrawal: Withdrawal, changed: datetime | None) -> TaskState:
    if withdrawal.status == "entered-in-error":
        reason = "The referrer marked this referral as entered in error."
        return TaskState("entered-in-error", "entered-in-error", reason=reason, last_changed=changed)
    return TaskState("cancelled", "withdrawn", reason="The referrer withdrew this referral.", last_changed=changed)


def closed_task(case: Case, changed: datetime | None) -> TaskState:
    closure = case.closure
    assert closure is not None
    if closure.reason == "declined":
        reason = "The person declined support when the community connector contacted them."
        return TaskState("failed", "declined-by-person", reason=reason, last_changed=changed)
    if not case.reached:
        if case.could_not_contact:
            reason = (
                f"The community connector could not contact the person after {case.failed_attempts} attempts, "
                f"and the case closed. {CLOSURE_REASONS[closure.reason]}"
            )
            return TaskState("failed", "could-not-contact", reason=reason, last_changed=changed)
        reason = f"The case closed before the person was reached. {CLOSURE_REASONS[closure.reason]}"
        return TaskState("failed", "closed", reason=reason, last_changed=changed)
    note = f"Support ended after {case.sessions_used} session(s)."
    return TaskState(
        "completed", "closed", note, CLOSURE_REASONS[closure.reason], last_changed=changed, outputs=outputs(case)
    )


def failed_to_contact_task(case: Case, changed: datetime | None) -> TaskState:
    reason = (
        f"The community connector could not contact the person after {case.failed_attempts} attempts; "
        "please check the contact details you hold for them."
    )
    return TaskState("failed", "could-not-contact", reason=reason, last_changed=changed)


def started_task(case: Case, changed: datetime | None) -> TaskState:
    reached = case.first_reached_at
    assert reached is not None
    note = f"Support started: the community connector first reached the person on {reached.date().isoformat()}."
    return TaskState("in-progress", "support-started", note, last_changed=changed)


def outputs(case: Case) -> tuple[TaskOutput, ...]:
    """What a completed referral reports: the goals, sessions used, the measures at baseline and closing,
    and the onward connections. Never the connector's closing note."""
    found: list[TaskOutput] = [TaskOutput("goal", goal) for goal in case.all_goals]
    found.append(TaskOutput("sessions-used", case.sessions_used))
    for stage in ("baseline", "closing"):
        measures = case.measures_at(stage)
        if measures is not None:
            found.extend(_measure_outputs(measures, stage))
    closure = case.closure
    found.extend(TaskOutput("onward-connection", name) for name in (closure.onward if closure else ()))
    return tuple(found)


def _measure_outputs(measures: Measures, stage: MeasureStage) -> list[TaskOutput]:
    found: list[TaskOutput] = []
    if (total := measures.ucla3_total) is not None:
        found.append(TaskOutput(f"ucla3-total-{stage}", total))
    if measures.ons_loneliness is not None:
        found.append(TaskOutput(f"ons-loneliness-{stage}", measures.ons_loneliness))
    if measures.ons4 is not None:
        for item in ONS4_ITEMS:
            if (value := getattr(measures.ons4, item)) is not None:
                found.append(TaskOutput(f"ons4-{item.replace('_', '-')}-{stage}", value))
    return found
