"""A referral's case: who holds it, the terms it runs by, and what the connector recorded.

Two kinds of fact make a case, and they are merged differently:

- **Triage's facts** (who holds the case, the terms stamped on an assignment, refused handovers and
  reassignments) arrive on another topic, possibly twice and in any order relative to intake's own
  records. Each kind is merged like domain/task_status.py does: the later fact wins, ties broken by
  event id, and refusals are a set keyed by event id. The same facts always give the same case.
- **The connector's records** (contacts, goals, sessions, extensions, measures, closure, requests)
  are intake's own. They are made one at a time under the referral's row lock (see
  domain/case_rules.py for what each may do), so they are kept in the order they were made.

Everything else a reader sees (status, allowance, sessions used, flags) is derived here from the
facts, never stored beside them, so nothing can disagree with what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from referral_intake.domain.facts import later
from referral_intake.domain.measures import Measures
from signpost_contracts.vocabulary import (
    ClosureReason,
    Complexity,
    ConnectorKind,
    ContactMode,
    ContactOutcome,
    MeasureStage,
)

CaseStatus = Literal["unassigned", "assigned", "in-progress", "closed"]
HoldingHow = Literal["assigned", "assigned-from-waitlist", "handed-over", "reassigned"]
ChangeKind = Literal["handover", "reassignment"]


@dataclass(frozen=True)
class Terms:
    """What the policy in force at assignment gives the case (triage's CaseTerms)."""

    policy_version: str
    session_allowance: int
    extension_sessions: int
    max_extensions: int
    max_failed_contacts: int
    stalled_after_days: int


# The case of an assignment without terms (sent by a triage from before terms were stamped on it) runs by
# the policy defaults of that time, so that it can still be worked; every current assignment carries terms.
LEGACY_TERMS = Terms("unstated", 6, 4, 1, 3, 28)


@dataclass(frozen=True)
class Holding:
    """Triage gave the case to a connector: on assignment, from the waitlist, by handover or reassignment."""

    connector_id: str
    connector_kind: ConnectorKind
    how: HoldingHow
    at: datetime
    event_id: str


@dataclass(frozen=True)
class Allocation:
    """The complexity and terms stamped on an assignment (not on a handover or reassignment)."""

    complexity: Complexity | None
    terms: Terms | None
    at: datetime
    event_id: str


@dataclass(frozen=True)
class Refusal:
    """Triage could not make a requested handover or reassignment; the case stays where it is."""

    kind: ChangeKind
    reason: str
    at: datetime
    event_id: str


@dataclass(frozen=True)
class Contact:
    connector_id: str
    mode: ContactMode
    outcome: ContactOutcome
    at: datetime


@dataclass(frozen=True)
class Session:
    connector_id: str
    mode: ContactMode
    at: datetime


@dataclass(frozen=True)
class Extension:
    """An extension asked for with a new goal: granted (sessions added) or refused, and why."""

    new_goal: str
    reason: str
    granted: bool
    sessions_added: int
    why: str
    at: datetime


@dataclass(frozen=True)
class Closure:
    reason: ClosureReason
    onward: tuple[str, ...]
    note: str | None  # for the connector's colleagues only: it never leaves intake
    at: datetime
    by: str


@dataclass(frozen=True)
class ChangeRequest:
    kind: ChangeKind
    by: str
    reason: str | None
    connector_id: str | None
    at: datetime


@dataclass(frozen=True)
class Case:
    referral_id: str
    holding: Holding | None = None
    first_assigned_at: datetime | None = None
    allocation: Allocation | None = None
    refusals: tuple[Refusal, ...] = ()
    contacts: tuple[Contact, ...] = ()
    goals: tuple[str, ...] = ()
    goals_set_at: datetime | None = None
    sessions: tuple[Session, ...] = ()
    extensions: tuple[Extension, ...] = ()
    measures: tuple[Measures, ...] = field(default=())
    closure: Closure | None = None
    requests: tuple[ChangeRequest, ...] = ()

    # Triage's facts, merged whatever order they arrive in.

    def held(self, fact: Holding) -> Case:
        first = min(filter(None, (self.first_assigned_at, fact.at)))
        return replace(self, holding=later(self.holding, fact), first_assigned_at=first)

    def allocated(self, fact: Allocation) -> Case:
        return replace(self, allocation=later(self.allocation, fact))

    def refused(self, fact: Refusal) -> Case:
        known = {refusal.event_id: refusal for refusal in (*self.refusals, fact)}
        return replace(self, refusals=tuple(sorted(known.values(), key=lambda r: (r.at, r.event_id))))

    # What follows from the facts.

    @property
    def terms(self) -> Terms:
        allocated = self.allocation.terms if self.allocation else None
        return allocated or LEGACY_TERMS

    @property
    def complexity(self) -> Complexity | None:
        return self.allocation.complexity if self.allocation else None

    @property
    def connector_id(self) -> str | None:
        return self.holding.connector_id if self.holding else None

    @property
    def first_reached_at(self) -> datetime | None:
        return min((c.at for c in self.contacts if c.outcome == "reached"), default=None)

    @property
    def reached(self) -> bool:
        return self.first_reached_at is not None

    @property
    def failed_attempts(self) -> int:
        """Unanswered attempts before the person was first reached (all of them while never reached)."""
        reached_at = self.first_reached_at
        return sum(1 for c in self.contacts if c.outcome == "no-answer" and (reached_at is None or c.at < reached_at))

    @property
    def could_not_contact(self) -> bool:
        return not self.reached and self.failed_attempts >= self.terms.max_failed_contacts

    @property
    def extensions_granted(self) -> int:
        return sum(1 for e in self.extensions if e.granted)

    @property
    def session_allowance(self) -> int:
        return self.terms.session_allowance + sum(e.sessions_added for e in self.extensions if e.granted)

    @property
    def sessions_used(self) -> int:
        return len(self.sessions)

    @property
    def all_goals(self) -> tuple[str, ...]:
        """The person's goals and the new goals their granted extensions were for."""
        return (*self.goals, *(e.new_goal for e in self.extensions if e.granted))

    @property
    def status(self) -> CaseStatus:
        if self.closure is not None:
            return "closed"
        if self.reached:
            return "in-progress"
        return "assigned" if self.holding is not None else "unassigned"

    def measures_at(self, stage: MeasureStage) -> Measures | None:
        return next((m for m in self.measures if m.stage == stage), None)

    def last_activity_at(self) -> datetime | None:
        """The latest session, or while there is none the first assignment: what 'stalled' counts from."""
        return max((s.at for s in self.sessions), default=self.first_assigned_at)

    def stalled(self, now: datetime) -> bool:
        """Open, and no session for the terms' stalled_after_days (counted from assignment before the first)."""
        since = self.last_activity_at()
        if self.closure is not None or since is None:
            return False
        return now - since >= timedelta(days=self.terms.stalled_after_days)

    def days_since_assignment(self, now: datetime) -> int | None:
        """Whole days since the connector holding the case was given it."""
        if self.holding is None:
            return None
        return max(0, (now - self.holding.at).days)
