"""What a connector may record on a case, and what each record changes.

Every transition takes the case as it stands, the moment (`CaseContext`: now, when the referral was
received, whether its referrer withdrew it) and what was sent; it returns the changed case and the
domain events to publish, or raises CaseConflict (the case's state does not allow it now: 409) or
CaseInvalid (what was sent cannot be accepted: 422, naming each field). The checks run in that order:
state first, then values, then the rules that depend on both.

State, for every write:
- a withdrawn referral's case is frozen ("withdrawn"); a closed case takes no more records ("closed").
- the case must be assigned: triage gave it to a connector.

Each action:
- contact: the first `reached` starts support (Task in-progress). `declined` closes the case as
  declined by the person (Task failed). Unanswered attempts before anyone was reached count: at the
  terms' max_failed_contacts the case is flagged "could not contact" (Task failed) and stays open for
  the connector to close; a later `reached` clears the flag.
- goals: after the person was reached; one to three, distinct (compared case- and space-insensitively),
  each at most 200 characters; they replace the earlier goals.
- session: after reached; at most the allowance (the terms' allowance plus granted extensions).
- extension: after the goals are set; the new goal must differ from every goal the case has; granted
  while the terms' max_extensions are not used up (adding extension_sessions), otherwise refused, and
  either way the answer says why.
- measures: after reached; UCLA-3, ONS loneliness, ONS4 as domain/measures.py checks them; a stage
  recorded again replaces the earlier answers.
- closure: frees the place; the onward connections (at most 10, each at most 200 characters) and the
  goals go to the referrer, the note stays in intake.
- handover to a volunteer: support under way (reached), goals set, low complexity, held by a paid connector.
- reassignment: to another connector than the one holding it, or to the best one with room; with a reason.

Times: optional (now), at most a minute ahead of the clock (skew between machines), never before the
referral was received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from referral_intake.domain import case_events as happened
from referral_intake.domain.case import Case, ChangeRequest, Closure, Contact, Extension, Session
from referral_intake.domain.measures import Measures, Ons4, as_ucla3, measure_problems
from referral_intake.domain.refusals import CaseConflict, CaseInvalid, FieldProblem
from referral_intake.domain.text import UNSTORABLE
from signpost_contracts.events.cases import GOAL_LIMIT, MAX_ONWARD
from signpost_contracts.events.common import CODE_LIMIT, NAME_LIMIT, TEXT_LIMIT
from signpost_contracts.vocabulary import ClosureReason, ContactMode, ContactOutcome, MeasureStage, OnsLoneliness

CLOCK_SKEW = timedelta(minutes=1)
MAX_GOALS = 3


@dataclass(frozen=True)
class CaseContext:
    now: datetime
    received_at: datetime
    withdrawn: str | None = None  # the ServiceRequest's status once its referrer withdrew it


@dataclass(frozen=True)
class Changed:
    case: Case
    events: tuple[happened.CaseEvent, ...]


class AllowanceUsedUp(CaseConflict):
    """Every session of the allowance is used; `extensions_left` says whether an extension can help."""

    def __init__(self, detail: str, extensions_left: int) -> None:
        super().__init__(detail)
        self.extensions_left = extensions_left


def record_contact(
    case: Case, context: CaseContext, *, by: str, mode: ContactMode, outcome: ContactOutcome, at: datetime | None
) -> Changed:
    _writable(case, context)
    moment = when(at, context)
    contacted = replace(case, contacts=(*case.contacts, Contact(by, mode, outcome, moment)))
    made = happened.ContactMade(
        case.referral_id,
        case.connector_id or by,
        mode,
        outcome,
        moment,
        first_reached=outcome == "reached" and not case.reached,
        failed_attempts=contacted.failed_attempts,
        could_not_contact=contacted.could_not_contact,
    )
    if outcome != "declined":
        return Changed(contacted, (made,))
    closed = _closed(contacted, "declined", (), None, moment, by)
    return Changed(closed.case, (made, *closed.events))


def set_goals(case: Case, context: CaseContext, *, goals: Sequence[str], at: datetime | None) -> Changed:
    _writable(case, context)
    _reached(case, "set goals")
    moment = when(at, context)
    agreed = tuple(goal.strip() for goal in goals)
    _check(_goal_problems(agreed))
    changed = replace(case, goals=agreed, goals_set_at=moment)
    return Changed(changed, (happened.GoalsAgreed(case.referral_id, len(agreed), moment),))


def record_session(case: Case, context: CaseContext, *, by: str, mode: ContactMode, at: datetime | None) -> Changed:
    _writable(case, context)
    _reached(case, "record a session")
    moment = when(at, context)
    if case.sessions_used >= case.session_allowance:
        left = max(0, case.terms.max_extensions - case.extensions_granted)
        more = (
            f"to hold another, ask for an extension with a new goal the person has set ({left} of "
            f"{case.terms.max_extensions} extensions remain, each adding {case.terms.extension_sessions} sessions)"
            if left
            else "no extension remains under the terms, so close the case with the person's onward connections"
        )
        raise AllowanceUsedUp(
            f"all {case.session_allowance} sessions of this case's allowance are used; {more}", extensions_left=left
        )
    changed = replace(case, sessions=(*case.sessions, Session(by, mode, moment)))
    held = happened.SessionHeld(case.referral_id, mode, moment, changed.sessions_used, changed.session_allowance)
    return Changed(changed, (held,))


def request_extension(case: Case, context: CaseContext, *, new_goal: str, reason: str, at: datetime | None) -> Changed:
    _writable(case, context)
    if not case.goals:
        raise CaseConflict("this case has no goals yet: set the person's goals first, then ask for an extension")
    moment = when(at, context)
    goal, why_asked = new_goal.strip(), reason.strip()
    problems = _text_problems("new_goal", goal, GOAL_LIMIT) + _text_problems("reason", why_asked, TEXT_LIMIT)
    repeated = next((g for g in case.all_goals if normalised(g) == normalised(goal)), None)
    if goal and repeated is not None:
        problems.append(
            FieldProblem(
                "new_goal",
                f"new_goal repeats the goal '{repeated}' this case already has; an extension is granted only for "
                "another goal the person has set",
            )
        )
    _check(problems)
    terms = case.terms
    if case.extensions_granted >= terms.max_extensions or terms.extension_sessions < 1:
        why = (
            f"the terms of this case (policy {terms.policy_version}) allow {terms.max_extensions} extension(s) and "
            f"{case.extensions_granted} have been granted"
            if terms.extension_sessions >= 1
            else f"the terms of this case (policy {terms.policy_version}) add no sessions by extension"
        )
        extension = Extension(goal, why_asked, False, 0, why, moment)
        refused = replace(case, extensions=(*case.extensions, extension))
        return Changed(refused, (happened.ExtensionRefused(case.referral_id, why, moment),))
    why = f"a new goal, and the terms (policy {terms.policy_version}) allow {terms.max_extensions} extension(s)"
    extension = Extension(goal, why_asked, True, terms.extension_sessions, why, moment)
    granted = replace(case, extensions=(*case.extensions, extension))
    event = happened.ExtensionGranted(
        case.referral_id, terms.extension_sessions, granted.session_allowance, granted.extensions_granted, moment
    )
    return Changed(granted, (event,))


def record_measures(
    case: Case,
    context: CaseContext,
    *,
    stage: MeasureStage,
    ucla3: Sequence[int | None] | None,
    ons_loneliness: OnsLoneliness | None,
    ons4: Ons4 | None,
    at: datetime | None,
) -> Changed:
    _writable(case, context)
    _reached(case, "record outcome measures")
    moment = when(at, context)
    _check(measure_problems(ucla3, ons_loneliness, ons4))
    measures = Measures(stage, moment, as_ucla3(ucla3), ons_loneliness, ons4 if ons4 and ons4.answered() else None)
    kept = tuple(m for m in case.measures if m.stage != stage)
    changed = replace(case, measures=(*kept, measures))
    return Changed(changed, (happened.MeasuresTaken(case.referral_id, measures),))


def close(
    case: Case,
    context: CaseContext,
    *,
    by: str,
    reason: ClosureReason,
    onward: Sequence[str],
    note: str | None,
    at: datetime | None,
) -> Changed:
    _writable(case, context)
    moment = when(at, context)
    names = tuple(name.strip() for name in onward)
    problems = _onward_problems(names)
    if note is not None:
        problems += _text_problems("note", note, TEXT_LIMIT, may_be_blank=True)
    _check(problems)
    return _closed(case, reason, names, (note.strip() or None) if note else None, moment, by)


def request_handover(case: Case, context: CaseContext, *, by: str, at: datetime | None) -> Changed:
    _writable(case, context)
    moment = when(at, context)
    _reached(case, "hand the case over")
    if not case.goals:
        raise CaseConflict("set the person's goals first: a volunteer takes a case once a plan is in progress")
    if case.complexity != "low":
        shown = f"{case.complexity} complexity" if case.complexity else "no complexity stated"
        raise CaseConflict(f"only a low-complexity case is handed to a volunteer, and this one has {shown}")
    if case.holding is not None and case.holding.connector_kind != "paid":
        raise CaseConflict("this case is already with a volunteer connector; a handover passes a paid connector's case")
    request = ChangeRequest("handover", by, None, None, moment)
    changed = replace(case, requests=(*case.requests, request))
    return Changed(changed, (happened.HandoverAsked(case.referral_id, by, moment),))


def request_reassignment(
    case: Case, context: CaseContext, *, by: str, connector_id: str | None, reason: str, at: datetime | None
) -> Changed:
    _writable(case, context)
    moment = when(at, context)
    why = reason.strip()
    problems = _text_problems("reason", why, TEXT_LIMIT)
    to = connector_id.strip() if connector_id is not None else None
    if to is not None:
        problems += _text_problems("connector_id", to, CODE_LIMIT)
        if to == case.connector_id:
            problems.append(
                FieldProblem(
                    "connector_id",
                    f"connector_id {to} already holds this case; name another connector, or leave connector_id "
                    "out for the best one with room",
                )
            )
    _check(problems)
    request = ChangeRequest("reassignment", by, why, to, moment)
    changed = replace(case, requests=(*case.requests, request))
    return Changed(changed, (happened.ReassignmentAsked(case.referral_id, to, why, by, moment),))


def when(at: datetime | None, context: CaseContext, field: str = "at") -> datetime:
    """The time a record was made: now when not given; never in the future, never before the referral."""
    if at is None:
        return context.now
    if at > context.now + CLOCK_SKEW:
        raise CaseInvalid.of([FieldProblem(field, f"{field} {at.isoformat()} is in the future; send when it happened")])
    if at < context.received_at:
        raise CaseInvalid.of(
            [
                FieldProblem(
                    field,
                    f"{field} {at.isoformat()} is before the referral was received "
                    f"({context.received_at.isoformat()}); send when it happened",
                )
            ]
        )
    return at


def normalised(goal: str) -> str:
    """A goal as compared with others: case, spacing and final punctuation do not make it another goal."""
    return " ".join(goal.casefold().split()).rstrip(".!?")


def _writable(case: Case, context: CaseContext) -> None:
    if context.withdrawn:
        raise CaseConflict(
            f"withdrawn: the referrer withdrew this referral (status {context.withdrawn}), so its case takes no "
            "more records"
        )
    if case.closure is not None:
        raise CaseConflict(f"closed: this case was closed ({case.closure.reason}) and takes no more records")
    if case.holding is None:
        raise CaseConflict("this referral has not been assigned a connector yet")


def _reached(case: Case, to_do: str) -> None:
    if not case.reached:
        raise CaseConflict(f"the person has not been reached yet: record a reached contact before you {to_do}")


def _closed(
    case: Case, reason: ClosureReason, onward: tuple[str, ...], note: str | None, at: datetime, by: str
) -> Changed:
    closed = replace(case, closure=Closure(reason, onward, note, at, by))
    ended = happened.CaseEnded(
        case.referral_id,
        reason,
        at,
        closed.sessions_used,
        closed.session_allowance,
        closed.reached,
        closed.all_goals,
        onward,
    )
    return Changed(closed, (ended,))


def _goal_problems(goals: tuple[str, ...]) -> list[FieldProblem]:
    if not 1 <= len(goals) <= MAX_GOALS:
        return [FieldProblem("goals", f"goals has {len(goals)}; agree one to three of the person's own goals")]
    problems = [p for index, goal in enumerate(goals) for p in _text_problems(f"goals.{index}", goal, GOAL_LIMIT)]
    seen: dict[str, int] = {}
    for index, goal in enumerate(goals):
        if goal and (first := seen.setdefault(normalised(goal), index)) != index:
            problems.append(FieldProblem(f"goals.{index}", f"goals {first + 1} and {index + 1} are the same goal"))
    return problems


def _onward_problems(names: tuple[str, ...]) -> list[FieldProblem]:
    if len(names) > MAX_ONWARD:
        return [FieldProblem("onward", f"onward names {len(names)}; name at most {MAX_ONWARD} groups or services")]
    return [p for index, name in enumerate(names) for p in _text_problems(f"onward.{index}", name, NAME_LIMIT)]


def _text_problems(field: str, text: str, limit: int, *, may_be_blank: bool = False) -> list[FieldProblem]:
    if not text and not may_be_blank:
        return [FieldProblem(field, f"{field} is blank; write it out")]
    if len(text) > limit:
        return [FieldProblem(field, f"{field} is {len(text)} characters long; at most {limit} are taken")]
    if not_text := _not_text(text):
        return [FieldProblem(field, f"{field} holds {not_text}, which is not text; remove it")]
    return []


def _not_text(text: str) -> str | None:
    """What in `text` no database or email can carry (domain/text.py), said for a person. Found by
    schemathesis (a 500 from PostgreSQL)."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    return "a NUL character (U+0000)" if code == 0 else f"half a surrogate pair (U+{code:04X})"


def _check(problems: Sequence[FieldProblem]) -> None:
    if problems:
        raise CaseInvalid.of(problems)
