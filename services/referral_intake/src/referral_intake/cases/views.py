"""What the case API answers: a case as JSON, from the use cases' CaseView (the same view the pages show)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from referral_intake.case_service import CaseView, ExtensionDecision
from referral_intake.domain.case import Case
from referral_intake.domain.measures import Measures


class Telecom(BaseModel):
    system: str
    value: str
    use: str | None = None


class Person(BaseModel):
    """Read from the referral's contained Patient as it was received."""

    name: str | None
    telecom: list[Telecom]
    address: str | None
    preferred_language: str | None
    interpreter_needed: bool


class ReasonForReferral(BaseModel):
    reasons: list[str]
    note: str | None


class Flags(BaseModel):
    stalled: bool
    could_not_contact: bool


class CaseSummary(BaseModel):
    """One line of a worklist."""

    referral_id: str
    status: str
    priority: str
    person: Person
    first_contact_preference: str | None
    reason_for_referral: ReasonForReferral
    connector_id: str | None
    connector_kind: str | None
    complexity: str | None
    session_allowance: int
    sessions_used: int
    goals: list[str]
    assigned_at: datetime | None
    days_since_assignment: int | None
    flags: Flags


class Terms(BaseModel):
    policy_version: str
    session_allowance: int
    extension_sessions: int
    max_extensions: int
    max_failed_contacts: int
    stalled_after_days: int


class ContactRecord(BaseModel):
    mode: str
    outcome: str
    at: datetime
    by: str


class SessionRecord(BaseModel):
    mode: str
    at: datetime
    by: str


class ExtensionRecord(BaseModel):
    new_goal: str
    reason: str
    decision: Literal["granted", "refused"]
    why: str
    sessions_added: int
    at: datetime


class Ons4Answers(BaseModel):
    life_satisfaction: int | None
    worthwhile: int | None
    happiness: int | None
    anxiety: int | None


class MeasuresRecord(BaseModel):
    at: datetime
    ucla3: list[int | None] | None
    ucla3_total: int | None
    ons_loneliness: str | None
    ons4: Ons4Answers | None


class ClosureRecord(BaseModel):
    reason: str
    onward: list[str]
    note: str | None
    at: datetime
    by: str


class RequestRecord(BaseModel):
    kind: str
    by: str
    reason: str | None
    connector_id: str | None
    at: datetime


class RefusalRecord(BaseModel):
    kind: str
    reason: str
    at: datetime


class CaseDetail(CaseSummary):
    """The whole case."""

    received_at: datetime
    withdrawn: str | None
    terms: Terms
    reached: bool
    failed_attempts: int
    goals_set_at: datetime | None
    contacts: list[ContactRecord]
    sessions: list[SessionRecord]
    extensions: list[ExtensionRecord]
    measures: dict[str, MeasuresRecord]
    closure: ClosureRecord | None
    requests: list[RequestRecord]
    refusals: list[RefusalRecord]


class Worklist(BaseModel):
    cases: list[CaseSummary]
    count: int
    limit: int
    offset: int


class ExtensionAnswer(BaseModel):
    decision: Literal["granted", "refused"]
    reason: str
    sessions_added: int
    session_allowance: int
    case: CaseDetail


class Requested(BaseModel):
    """A change triage makes (or refuses: shown on the case under `refusals`)."""

    detail: str
    case: CaseDetail


def summary(view: CaseView) -> CaseSummary:
    case, contact = view.case, view.contact
    return CaseSummary(
        referral_id=case.referral_id,
        status=view.status,
        priority=str(view.referral.resource.get("priority") or "routine"),
        person=Person(
            name=contact.name,
            telecom=[Telecom(system=p.system, value=p.value, use=p.use) for p in contact.telecom],
            address=contact.address,
            preferred_language=contact.preferred_language,
            interpreter_needed=contact.interpreter_needed,
        ),
        first_contact_preference=contact.first_contact_preference,
        reason_for_referral=ReasonForReferral(reasons=list(contact.reasons), note=contact.note),
        connector_id=case.connector_id,
        connector_kind=case.holding.connector_kind if case.holding else None,
        complexity=case.complexity,
        session_allowance=case.session_allowance,
        sessions_used=case.sessions_used,
        goals=list(case.all_goals),
        assigned_at=case.holding.at if case.holding else None,
        days_since_assignment=case.days_since_assignment(view.now),
        flags=Flags(stalled=view.stalled, could_not_contact=view.could_not_contact),
    )


def detail(view: CaseView) -> CaseDetail:
    case = view.case
    return CaseDetail(
        **summary(view).model_dump(),
        received_at=view.referral.received_at,
        withdrawn=view.withdrawn,
        terms=Terms(**vars(case.terms)),
        reached=case.reached,
        failed_attempts=case.failed_attempts,
        goals_set_at=case.goals_set_at,
        contacts=[ContactRecord(mode=c.mode, outcome=c.outcome, at=c.at, by=c.connector_id) for c in case.contacts],
        sessions=[SessionRecord(mode=s.mode, at=s.at, by=s.connector_id) for s in case.sessions],
        extensions=[
            ExtensionRecord(
                new_goal=e.new_goal,
                reason=e.reason,
                decision="granted" if e.granted else "refused",
                why=e.why,
                sessions_added=e.sessions_added,
                at=e.at,
            )
            for e in case.extensions
        ],
        measures={m.stage: _measures(m) for m in case.measures},
        closure=_closure(case),
        requests=[RequestRecord(**vars(r)) for r in case.requests],
        refusals=[RefusalRecord(kind=r.kind, reason=r.reason, at=r.at) for r in case.refusals],
    )


def worklist(views: list[CaseView], *, limit: int, offset: int) -> Worklist:
    return Worklist(cases=[summary(v) for v in views], count=len(views), limit=limit, offset=offset)


def extension(decision: ExtensionDecision) -> ExtensionAnswer:
    granted = decision.extension.granted
    return ExtensionAnswer(
        decision="granted" if granted else "refused",
        reason=decision.extension.why,
        sessions_added=decision.extension.sessions_added,
        session_allowance=decision.view.case.session_allowance,
        case=detail(decision.view),
    )


def _measures(measures: Measures) -> MeasuresRecord:
    ons4 = measures.ons4
    return MeasuresRecord(
        at=measures.at,
        ucla3=list(measures.ucla3) if measures.ucla3 is not None else None,
        ucla3_total=measures.ucla3_total,
        ons_loneliness=measures.ons_loneliness,
        ons4=Ons4Answers(**vars(ons4)) if ons4 is not None else None,
    )


def _closure(case: Case) -> ClosureRecord | None:
    closure = case.closure
    if closure is None:
        return None
    return ClosureRecord(reason=closure.reason, onward=list(closure.onward), note=closure.note, at=closure.at,
                         by=closure.by)  # fmt: skip
