"""Use cases of a referral's case: the worklist, the case, and one use case per thing a connector records.

Each write runs in the unit of work its edge opened (the JSON case API, or the connector pages):
it locks the referral row (so a withdrawal and the write take turns: a withdrawn case is frozen),
then the case row (so triage's facts and the write take turns), applies one transition of
domain/case_rules.py and publishes the domain events it records. A caller who may not work on a
case (a connector who does not hold it) is told CaseNotFound, exactly as for an unknown id.
Refusals are domain/refusals.py's CaseConflict and CaseInvalid, naming the fields at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from referral_intake import access, audit
from referral_intake.adapters.case_events import case_event
from referral_intake.adapters.fhir_contact import contact_card
from referral_intake.domain import case_rules as rules
from referral_intake.domain.case import Case, Extension
from referral_intake.domain.case_rules import CaseContext, Changed
from referral_intake.domain.measures import Ons4
from referral_intake.domain.person import ContactCard
from referral_intake.domain.referral import StoredReferral
from referral_intake.ports import IntakeWork, WorklistStatus
from referral_intake.task_index import refresh_task
from signpost_contracts.vocabulary import ClosureReason, ContactMode, ContactOutcome, MeasureStage, OnsLoneliness
from signpost_runtime.auth import AuthError, Principal

log = logging.getLogger(__name__)

Transition = Callable[[Case, CaseContext], Changed]


class CaseNotFound(Exception):  # noqa: N818 (an answer, not a fault)
    """No such referral, or not one whose case this caller may work on."""


@dataclass(frozen=True)
class CaseView:
    """A case as its connector sees it, at `now`: the record, the person's contact card, the flags."""

    referral: StoredReferral
    case: Case
    contact: ContactCard
    now: datetime

    @property
    def withdrawn(self) -> str | None:
        return self.referral.status if self.referral.withdrawal else None

    @property
    def status(self) -> str:
        return "withdrawn" if self.withdrawn else self.case.status

    @property
    def stalled(self) -> bool:
        return not self.withdrawn and self.case.holding is not None and self.case.stalled(self.now)

    @property
    def could_not_contact(self) -> bool:
        return self.case.could_not_contact and self.case.closure is None


@dataclass(frozen=True)
class ExtensionDecision:
    view: CaseView
    extension: Extension


class CaseService:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

    async def worklist(
        self, unit: IntakeWork, principal: Principal, status: WorklistStatus, *, limit: int, offset: int
    ) -> list[CaseView]:
        """A connector's own cases; every case for a coordinator. Oldest assignment first."""
        connector = None if access.coordinates(principal) else principal.subject
        cases = await unit.cases.worklist(connector, status, limit=limit, offset=offset)
        referrals = await unit.referrals.get_many([case.referral_id for case in cases])
        now = self.clock()
        shown = [_view(referrals[c.referral_id], c, now) for c in cases if c.referral_id in referrals]
        await audit.shown(unit, principal, "worklist", [view.referral.id for view in shown])
        return shown

    async def case(self, unit: IntakeWork, referral_id: str, principal: Principal) -> CaseView:
        referral = await unit.referrals.get(referral_id)
        case = await unit.cases.load(referral_id) if referral else None
        if referral is None or not access.may_work_on(principal, case):
            raise CaseNotFound
        await audit.shown(unit, principal, "case", [referral.id])
        return _view(referral, case or Case(referral_id), self.clock())

    async def record_contact(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        mode: ContactMode,
        outcome: ContactOutcome,
        at: datetime | None = None,
    ) -> CaseView:
        by = principal.subject
        return await self._change(
            unit,
            referral_id,
            principal,
            lambda c, m: rules.record_contact(c, m, by=by, mode=mode, outcome=outcome, at=at),
        )

    async def set_goals(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        goals: Sequence[str],
        at: datetime | None = None,
    ) -> CaseView:
        return await self._change(unit, referral_id, principal, lambda c, m: rules.set_goals(c, m, goals=goals, at=at))

    async def record_session(
        self, unit: IntakeWork, referral_id: str, principal: Principal, *, mode: ContactMode, at: datetime | None = None
    ) -> CaseView:
        by = principal.subject
        return await self._change(
            unit, referral_id, principal, lambda c, m: rules.record_session(c, m, by=by, mode=mode, at=at)
        )

    async def request_extension(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        new_goal: str,
        reason: str,
        at: datetime | None = None,
    ) -> ExtensionDecision:
        view = await self._change(
            unit,
            referral_id,
            principal,
            lambda c, m: rules.request_extension(c, m, new_goal=new_goal, reason=reason, at=at),
        )
        return ExtensionDecision(view, view.case.extensions[-1])

    async def record_measures(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        stage: MeasureStage,
        ucla3: Sequence[int | None] | None = None,
        ons_loneliness: OnsLoneliness | None = None,
        ons4: Ons4 | None = None,
        at: datetime | None = None,
    ) -> CaseView:
        def transition(case: Case, moment: CaseContext) -> Changed:
            return rules.record_measures(
                case, moment, stage=stage, ucla3=ucla3, ons_loneliness=ons_loneliness, ons4=ons4, at=at
            )

        return await self._change(unit, referral_id, principal, transition)

    async def close(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        reason: ClosureReason,
        onward: Sequence[str] = (),
        note: str | None = None,
        at: datetime | None = None,
    ) -> CaseView:
        by = principal.subject
        return await self._change(
            unit,
            referral_id,
            principal,
            lambda c, m: rules.close(c, m, by=by, reason=reason, onward=onward, note=note, at=at),
        )

    async def request_handover(
        self, unit: IntakeWork, referral_id: str, principal: Principal, *, at: datetime | None = None
    ) -> CaseView:
        by = principal.subject
        return await self._change(unit, referral_id, principal, lambda c, m: rules.request_handover(c, m, by=by, at=at))

    async def request_reassignment(
        self,
        unit: IntakeWork,
        referral_id: str,
        principal: Principal,
        *,
        reason: str,
        connector_id: str | None = None,
        at: datetime | None = None,
    ) -> CaseView:
        if not access.coordinates(principal):
            raise AuthError(403, "only a coordinator (scope cases:coordinate) reassigns a case")
        by = principal.subject
        return await self._change(
            unit,
            referral_id,
            principal,
            lambda c, m: rules.request_reassignment(c, m, by=by, connector_id=connector_id, reason=reason, at=at),
        )

    async def _change(
        self, unit: IntakeWork, referral_id: str, principal: Principal, transition: Transition
    ) -> CaseView:
        referral = await unit.referrals.get_for_update(referral_id)
        case = await unit.cases.load_for_update(referral_id) if referral else None
        if referral is None or not access.may_work_on(principal, case):
            raise CaseNotFound
        withdrawal = referral.withdrawal
        moment = CaseContext(self.clock(), referral.received_at, withdrawal.status if withdrawal else None)
        changed = transition(case or Case(referral_id), moment)
        await unit.cases.save(changed.case)
        await refresh_task(unit, referral_id, moment.now)
        unit.publish(*(case_event(event, referral_id) for event in changed.events))
        log.info(
            "case %s: %s by %s", referral_id, ", ".join(type(e).__name__ for e in changed.events), principal.subject
        )
        return _view(referral, changed.case, moment.now)


def _view(referral: StoredReferral, case: Case, now: datetime) -> CaseView:
    return CaseView(referral, case, contact_card(referral.resource), now)
