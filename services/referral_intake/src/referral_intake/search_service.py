"""Use cases of FHIR search: referrals by identifier, Tasks by what changed, and the condition of a conditional create.

Every search runs over what the caller may read (access.ReadScope, applied in SQL), so a search never
returns, counts or pages over another organisation's referrals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from referral_intake import access, audit
from referral_intake.domain.referral import ReferralSubmission, StoredReferral
from referral_intake.domain.search import AnyOf, TaskPosition, TaskQuery
from referral_intake.ports import IntakeWork
from referral_intake.task_index import TaskView, task_view
from signpost_runtime.auth import Principal

MAX_REFERRALS = 100  # a search by identifier finds a handful; more than this answers the first ones and the total


class ConditionMatchesMany(Exception):  # noqa: N818 (an answer, not a fault)
    """If-None-Exist matched more than one referral (FHIR: 412)."""


class ConditionMatchesUnreadable(Exception):  # noqa: N818
    """If-None-Exist matched a referral of the requester that the caller may not read (412, naming none)."""


@dataclass(frozen=True)
class TaskPage:
    total: int
    tasks: list[TaskView]
    more: bool  # there is a next page

    @property
    def last(self) -> TaskPosition:
        view = self.tasks[-1]
        return TaskPosition(view.last_updated, view.referral.task_id)


async def referrals_by_identifier(
    unit: IntakeWork, conditions: Sequence[AnyOf], principal: Principal
) -> tuple[int, list[StoredReferral]]:
    total, found = await unit.referrals.search_by_identifier(
        conditions, access.read_scope(principal), limit=MAX_REFERRALS
    )
    await audit.shown(unit, principal, "ServiceRequest", [referral.id for referral in found])
    return total, found


async def tasks(
    unit: IntakeWork, query: TaskQuery, principal: Principal, *, count: int, after: TaskPosition | None
) -> TaskPage:
    # One more than the page, to know whether a next page exists without counting what lies after the cursor.
    total, referral_ids = await unit.tasks.search(query, access.read_scope(principal), limit=count + 1, after=after)
    referrals = await unit.referrals.get_many(referral_ids[:count])
    views = [await task_view(unit, referrals[referral_id], principal) for referral_id in referral_ids[:count]]
    await audit.shown(unit, principal, "Task", referral_ids[:count])
    # _count=0 asks for the total alone: no page, so no next one.
    return TaskPage(total, views, more=0 < count < len(referral_ids))


async def existing_match(
    unit: IntakeWork, conditions: Sequence[AnyOf], submission: ReferralSubmission, principal: Principal
) -> StoredReferral | None:
    """The one referral If-None-Exist matches, or None to create.

    The condition is evaluated over what the caller may read and, besides, over the referrals of the
    organisation the new referral is for (the caller may send for it): a match there that the caller may
    not read (an integration engine's condition matching a referral the practice sent itself) is refused
    412 without its id or content, rather than created again beside it. A match in any other organisation
    is neither seen nor counted, and the referral is created: the answer is the same as for no match.
    """
    scope = access.read_scope(principal).and_organisation(submission.referrer.requester)
    total, found = await unit.referrals.search_by_identifier(conditions, scope, limit=2)
    if any(not access.may_read(principal, referral) for referral in found):
        raise ConditionMatchesUnreadable
    if total > 1:
        raise ConditionMatchesMany
    return found[0] if found else None
