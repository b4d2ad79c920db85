"""What the referrer hears about a referral's case, after it was assigned or waitlisted.

- A waiting person assigned a connector: the waitlist email promised this follow-up.
- First contact: only when the service turns it on (`NOTIFY_FIRST_CONTACT`); most referrers do not
  want an email for every step, and closure tells them the rest.
- Closure: the "message back to GP" of the PRSB social prescribing standard, in plain words:
  support given (sessions used), the person's goals, onward connections, why support ended. No
  outcome scores unless the service allows them (`CLOSURE_MESSAGE_INCLUDES_SCORES`, off): only then
  are `case.measures-recorded.v1` answers kept (`scores_of`) and added at closure.
- A link to an open case: the second referrer learns only that the person is already supported,
  nothing about the other referral or who made it.
- Withdrawal: a confirmation, and nothing more afterwards (see `withdrawal`).

Goals and onward connections are a connector's free text: each is made safe with `display_text`
and bounded, and only the first few are kept, with a count of the rest, so no closure can turn
the email into a letter of any length.
"""

from __future__ import annotations

from collections.abc import Sequence

from notifications.domain.free_text import display_text
from notifications.domain.outcomes import Outcome, StageScores
from signpost_contracts.events.cases import CaseClosed, ContactRecorded, MeasuresRecorded, ReferralWithdrawn
from signpost_contracts.events.triage import ReferralAssignedFromWaitlist, ReferralLinked

GOAL_LIMIT = 160  # characters of one goal shown
ONWARD_LIMIT = 120  # characters of one onward connection shown
GOALS_SHOWN = 6  # one to three goals, and one more for each extension
ONWARD_SHOWN = 10


def outcome_of_waitlist_assignment(event_id: str, event_type: str, assigned: ReferralAssignedFromWaitlist) -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=assigned.referral_id,
        kind="assigned-from-waitlist",
        occurred_at=assigned.assigned_at,
        connector_kind=assigned.connector_kind,
        area=assigned.area,
    )


def outcome_of_contact(
    event_id: str, event_type: str, contact: ContactRecorded, *, tell_first_contact: bool
) -> Outcome | None:
    """Only the first time the person is reached, and only when the service has chosen to say so."""
    if not (tell_first_contact and contact.first_reached):
        return None
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=contact.referral_id,
        kind="first-contact",
        occurred_at=contact.contacted_at,
    )


def outcome_of_closure(event_id: str, event_type: str, closed: CaseClosed) -> Outcome:
    goals, goals_not_shown = _bounded_list(closed.goals, GOALS_SHOWN, GOAL_LIMIT)
    onward, onward_not_shown = _bounded_list(closed.onward, ONWARD_SHOWN, ONWARD_LIMIT)
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=closed.referral_id,
        kind="closed",
        occurred_at=closed.closed_at,
        closure_reason=closed.reason,
        reached=closed.reached,
        sessions_used=closed.sessions_used,
        goals=goals,
        goals_not_shown=goals_not_shown,
        onward=onward,
        onward_not_shown=onward_not_shown,
    )


def outcome_of_link(event_id: str, event_type: str, linked: ReferralLinked) -> Outcome:
    # linked_to_referral_id and triage's reason stay behind: they describe the other referral.
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=linked.referral_id,
        kind="linked",
        occurred_at=linked.linked_at,
    )


def outcome_of_withdrawal(event_id: str, event_type: str, withdrawn: ReferralWithdrawn) -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type=event_type,
        referral_id=withdrawn.referral_id,
        kind="withdrawn",
        occurred_at=withdrawn.withdrawn_at,
        withdrawal_status=withdrawn.status,
    )


def scores_of(measures: MeasuresRecorded) -> StageScores:
    ons4 = measures.ons4
    return StageScores(
        ucla3_total=measures.ucla3_total,
        ons_loneliness=measures.ons_loneliness,
        life_satisfaction=ons4.life_satisfaction if ons4 else None,
        worthwhile=ons4.worthwhile if ons4 else None,
        happiness=ons4.happiness if ons4 else None,
        anxiety=ons4.anxiety if ons4 else None,
    )


def _bounded_list(values: Sequence[str], most: int, limit: int) -> tuple[tuple[str, ...], int]:
    """The first `most` values that are still text once made safe, and how many others were left out."""
    safe = [text for value in values if (text := display_text(value, limit))]
    return tuple(safe[:most]), max(len(safe) - most, 0)
