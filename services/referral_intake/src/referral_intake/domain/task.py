"""The shape of the referrer's view of a referral: a FHIR Task's status, reason and outputs, in Signpost's terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TaskStatus = Literal[
    "requested", "accepted", "rejected", "in-progress", "completed", "failed", "cancelled", "entered-in-error"
]
BusinessStatus = Literal[
    "assigned",
    "waitlisted",
    "declined",
    "redirected",
    "linked",
    "support-started",
    "could-not-contact",
    "declined-by-person",
    "closed",
    "withdrawn",
    "entered-in-error",
]


@dataclass(frozen=True)
class TaskOutput:
    """One typed outcome of the referral (Task.output): a code of Signpost's case-output CodeSystem."""

    code: str
    value: str | int


@dataclass(frozen=True)
class TaskState:
    """`business_status` is set only once the outcome is settled (assigned, waitlisted, declined, ...)."""

    status: TaskStatus
    business_status: BusinessStatus | None = None
    note: str | None = None
    reason: str | None = None
    redirect_service: str | None = None
    redirect_contact: str | None = None
    redirect_urgent: bool = False
    last_changed: datetime | None = None
    outputs: tuple[TaskOutput, ...] = ()
    linked_to: str | None = None  # the open referral this one follows, when its reader may see that one


def last_modified(state: TaskState, received_at: datetime) -> datetime:
    """Task.lastModified: when the latest fact about the referral happened, or its arrival before any."""
    return max(filter(None, (state.last_changed, received_at)))
