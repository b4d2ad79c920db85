"""What triage's use cases need from a unit of work: its repositories and `publish`.

The PostgreSQL repositories (adapters/*_store.py) implement these on the unit's connection; the fake
unit in tests/support/fakes/triage.py implements them in memory, so the rules run in milliseconds.

Locking contract (the PostgreSQL side; the fake has nothing to lock):
- `lock_connectors` locks connector rows in id order in one statement, so that two units competing for
  the same connectors never wait on each other in a cycle; a unit changes a caseload only on a row it
  locked. Connectors are locked whatever their status, so that a change of status waits too.
- `take_first` locks the waiting entry it returns (FOR UPDATE SKIP LOCKED): the unit that assigns it
  deletes it, and no other unit can take it meanwhile.
- `load_roster` locks the connector table against every other unit that locks connector rows, so a
  connector added or changed by a reload is seen by every placement after it.
- `lock_person` serialises arrivals of the same person, so two referrals of one person never both
  find no open case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from signpost_contracts import EventEnvelope
from signpost_contracts.vocabulary import Complexity, ConnectorKind
from triage.domain.assignment import ConnectorLoad
from triage.domain.decision import Decision
from triage.domain.policy import AssignmentRules
from triage.domain.referral import ReferralFacts
from triage.domain.roster import Roster
from triage.domain.terms import Terms
from triage.domain.waitlist import WaitingEntry

EndReason = Literal["closed", "withdrawn"]
ChangeKind = Literal["handover", "reassignment"]


@dataclass(frozen=True)
class CaseRecord:
    """An open assignment: who holds the case now, and what the ranking needs to know of the person."""

    referral_id: str
    holder_id: str
    area: str
    complexity: Complexity
    needs: frozenset[str] = frozenset()
    language_preference: str | None = None
    person_key: str | None = None


@dataclass(frozen=True)
class NewAssignment:
    referral_id: str
    connector: ConnectorLoad
    area: str
    complexity: Complexity
    reason: str
    terms: Terms
    assigned_at: datetime
    needs: frozenset[str] = frozenset()
    language_preference: str | None = None
    person_key: str | None = None
    waiting_since: datetime | None = None


@dataclass(frozen=True)
class ChangeRequest:
    referral_id: str
    kind: ChangeKind
    requested_by: str
    requested_at: datetime
    reason: str = ""
    named_connector_id: str | None = None


@dataclass(frozen=True)
class ChangeAnswer:
    moved: bool
    reason: str
    from_connector_id: str | None = None
    to_connector_id: str | None = None


class Decisions(Protocol):
    async def claim_referral(
        self, facts: ReferralFacts, decision: Decision, *, event_id: str, correlation_id: str, decided_at: datetime
    ) -> bool: ...

    async def set_summary(self, referral_id: str, summary: str) -> None: ...

    async def record_link(self, referral_id: str, linked_to: str, reason: str, at: datetime) -> None: ...

    async def decision_view(self, referral_id: str) -> dict[str, Any] | None: ...


class RosterLoads(Protocol):
    async def load_roster(self, roster: Roster, source: str) -> list[str]: ...

    async def lock_connectors(
        self, *, covering: Sequence[str] = (), ids: Sequence[str] = (), every: bool = False
    ) -> list[ConnectorLoad]: ...

    async def take_case(self, connector_id: str) -> None: ...

    async def release_case(self, connector_id: str) -> None: ...

    async def roster_rows(self) -> list[dict[str, Any]]: ...


class Waitlist(Protocol):
    async def add(
        self, entry: WaitingEntry, *, required_kind: ConnectorKind | None, reason: str, waitlisted_at: datetime
    ) -> None: ...

    async def take_first(self, connectors: Sequence[ConnectorLoad], rules: AssignmentRules) -> WaitingEntry | None: ...

    async def remove(self, referral_id: str) -> bool: ...

    async def position(self, referral_id: str) -> int | None: ...

    async def entries(self, limit: int) -> list[dict[str, Any]]: ...


class Cases(Protocol):
    async def open(self, assignment: NewAssignment) -> None: ...

    async def open_case(self, referral_id: str, *, lock: bool = False) -> CaseRecord | None: ...

    async def end(self, referral_id: str, reason: EndReason, at: datetime) -> str | None: ...

    async def move(self, referral_id: str, to: ConnectorLoad, at: datetime) -> None: ...

    async def record_end(self, referral_id: str, reason: EndReason, detail: str, at: datetime) -> bool: ...

    async def has_ended(self, referral_id: str) -> bool: ...

    async def lock_person(self, person_key: str) -> None: ...

    async def open_case_of_person(self, person_key: str) -> tuple[str, bool] | None: ...

    async def change_answered(self, request: ChangeRequest) -> bool: ...

    async def record_change(self, request: ChangeRequest, answer: ChangeAnswer, at: datetime) -> None: ...

    async def open_cases(self) -> dict[str, list[dict[str, Any]]]: ...


class TriageWork(Protocol):
    @property
    def decisions(self) -> Decisions: ...

    @property
    def roster(self) -> RosterLoads: ...

    @property
    def waitlist(self) -> Waitlist: ...

    @property
    def cases(self) -> Cases: ...

    def publish(self, *events: EventEnvelope) -> None: ...
