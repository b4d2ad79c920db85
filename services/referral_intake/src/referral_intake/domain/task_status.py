"""What the referrer sees as the Task status, derived from what later events told us.

Events from triage may arrive duplicated or out of order (a dead-letter replay can deliver an
assignment before the decision it followed). So we keep *facts*, merge each kind of fact with a
rule that does not depend on arrival order (the later fact wins, ties broken by event id), and
derive the status from the facts alone. The same facts always give the same Task, and a step
along the accepted path (assigned, waitlisted) proves acceptance even before the decision arrives,
so a status never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from referral_intake.domain.case import Case
from referral_intake.domain.facts import later
from referral_intake.domain.task import BusinessStatus, TaskOutput, TaskState, TaskStatus
from referral_intake.domain.task_outcome import (
    Withdrawal,
    case_changed,
    closed_task,
    failed_to_contact_task,
    started_task,
    withdrawn_task,
)

__all__ = [
    "Assignment",
    "BusinessStatus",
    "Linking",
    "ReferralProgress",
    "TaskOutput",
    "TaskState",
    "TaskStatus",
    "Triage",
    "Waitlisting",
    "Withdrawal",
    "later",
    "task_state",
]


@dataclass(frozen=True)
class Triage:
    outcome: Literal["accepted", "declined", "redirected"]
    summary: str
    decided_at: datetime
    event_id: str
    reasons: tuple[str, ...] = ()
    redirect_service: str | None = None
    redirect_contact: str | None = None
    redirect_urgent: bool = False

    @property
    def at(self) -> datetime:
        return self.decided_at


@dataclass(frozen=True)
class Assignment:
    connector_kind: str
    area: str
    assigned_at: datetime
    event_id: str

    @property
    def at(self) -> datetime:
        return self.assigned_at


@dataclass(frozen=True)
class Linking:
    """The person already has an open case: this referral takes no place and follows that one."""

    linked_to: str
    reason: str
    linked_at: datetime
    event_id: str

    @property
    def at(self) -> datetime:
        return self.linked_at


@dataclass(frozen=True)
class Waitlisting:
    area: str
    reason: str
    waitlisted_at: datetime
    event_id: str

    @property
    def at(self) -> datetime:
        return self.waitlisted_at


@dataclass(frozen=True)
class ReferralProgress:
    triage: Triage | None = None
    assignment: Assignment | None = None
    waitlist: Waitlisting | None = None
    linked: Linking | None = None

    def with_triage(self, fact: Triage) -> ReferralProgress:
        return replace(self, triage=later(self.triage, fact))

    def with_assignment(self, fact: Assignment) -> ReferralProgress:
        return replace(self, assignment=later(self.assignment, fact))

    def with_waitlist(self, fact: Waitlisting) -> ReferralProgress:
        return replace(self, waitlist=later(self.waitlist, fact))

    def with_link(self, fact: Linking) -> ReferralProgress:
        return replace(self, linked=later(self.linked, fact))

    def last_changed(self) -> datetime | None:
        facts = (self.triage, self.assignment, self.waitlist, self.linked)
        return max((fact.at for fact in facts if fact is not None), default=None)


def task_state(
    progress: ReferralProgress,
    case: Case | None = None,
    withdrawal: Withdrawal | None = None,
    *,
    linked_visible: bool = True,
) -> TaskState:
    """The Task, from the facts. What ends a referral outranks what happened on the way: withdrawn, then
    the case's closure, then a link to another open case; then the case's progress (could not contact,
    support started); then triage's placement (assigned, waitlisted) and decision."""
    times = (progress.last_changed(), case_changed(case), withdrawal.at if withdrawal else None)
    changed = max((moment for moment in times if moment is not None), default=None)
    if withdrawal is not None:
        return withdrawn_task(withdrawal, changed)
    if case is not None and case.closure is not None:
        return closed_task(case, changed)
    if progress.linked is not None:
        linked = progress.linked
        return TaskState(
            "rejected",
            "linked",
            reason=f"The person is already being supported: {linked.reason}",
            last_changed=changed,
            linked_to=linked.linked_to if linked_visible else None,
        )
    if case is not None and case.could_not_contact:
        return failed_to_contact_task(case, changed)
    if case is not None and case.reached:
        return started_task(case, changed)
    return _placement(progress, changed, case)


def _placement(progress: ReferralProgress, changed: datetime | None, case: Case | None) -> TaskState:
    if progress.assignment is not None:
        # Assigned beats waitlisted: a connector has taken the person on.
        assignment = progress.assignment
        note = f"Assigned to a {assignment.connector_kind} community connector covering {assignment.area}."
        return TaskState("accepted", "assigned", note, last_changed=changed)
    if case is not None and case.holding is not None:
        note = f"Assigned to a {case.holding.connector_kind} community connector."
        return TaskState("accepted", "assigned", note, last_changed=changed)
    if progress.waitlist is not None:
        note = f"Eligible and waiting for a connector in {progress.waitlist.area}: {progress.waitlist.reason}"
        return TaskState("accepted", "waitlisted", note, last_changed=changed)
    triage = progress.triage
    if triage is None:
        return TaskState("requested", last_changed=changed)
    if triage.outcome == "accepted":
        return TaskState("accepted", None, "Eligible; a community connector is being assigned.", last_changed=changed)
    if triage.outcome == "declined":
        return TaskState("rejected", "declined", reason=triage.summary, last_changed=changed)
    return TaskState(
        "rejected",
        "redirected",
        reason=_redirect_reason(triage),
        redirect_service=triage.redirect_service,
        redirect_contact=triage.redirect_contact,
        redirect_urgent=triage.redirect_urgent,
        last_changed=changed,
    )


def _redirect_reason(triage: Triage) -> str:
    where = triage.redirect_service or "another service"
    contact = f" (contact: {triage.redirect_contact})" if triage.redirect_contact else ""
    urgency = " URGENT: please act on this today." if triage.redirect_urgent else ""
    summary = triage.summary.strip()
    if summary and summary[-1] not in ".!?":
        summary += "."
    return f"{summary} Please refer to {where}{contact}.{urgency}".strip()
