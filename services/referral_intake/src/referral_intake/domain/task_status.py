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
from typing import Literal, Protocol, TypeVar

TaskStatus = Literal["requested", "accepted", "rejected"]
BusinessStatus = Literal["assigned", "waitlisted", "declined", "redirected"]


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
class Waitlisting:
    area: str
    reason: str
    waitlisted_at: datetime
    event_id: str

    @property
    def at(self) -> datetime:
        return self.waitlisted_at


class _Fact(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def event_id(self) -> str: ...


FactT = TypeVar("FactT", bound=_Fact)


def later(current: FactT | None, incoming: FactT) -> FactT:
    """The fact to keep: the later one; equal times are settled by event id so order never matters."""
    if current is None:
        return incoming
    return max(current, incoming, key=lambda fact: (fact.at, fact.event_id))


@dataclass(frozen=True)
class ReferralProgress:
    triage: Triage | None = None
    assignment: Assignment | None = None
    waitlist: Waitlisting | None = None

    def with_triage(self, fact: Triage) -> ReferralProgress:
        return replace(self, triage=later(self.triage, fact))

    def with_assignment(self, fact: Assignment) -> ReferralProgress:
        return replace(self, assignment=later(self.assignment, fact))

    def with_waitlist(self, fact: Waitlisting) -> ReferralProgress:
        return replace(self, waitlist=later(self.waitlist, fact))

    def last_changed(self) -> datetime | None:
        times = [fact.at for fact in (self.triage, self.assignment, self.waitlist) if fact is not None]
        return max(times, default=None)


@dataclass(frozen=True)
class TaskState:
    """`business_status` is set only once the outcome is settled (assigned, waitlisted, declined, redirected)."""

    status: TaskStatus
    business_status: BusinessStatus | None = None
    note: str | None = None
    reason: str | None = None
    redirect_service: str | None = None
    redirect_contact: str | None = None
    redirect_urgent: bool = False
    last_changed: datetime | None = None


def task_state(progress: ReferralProgress) -> TaskState:
    changed = progress.last_changed()
    if progress.assignment is not None:
        # Assigned beats waitlisted: a connector has taken the person on.
        assignment = progress.assignment
        note = f"Assigned to a {assignment.connector_kind} community connector covering {assignment.area}."
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
