"""The rules of conditional create and of Task searches, on the fake unit of work: which matches count, which are
hidden, and that every change of a Task's facts moves it in the index."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from referral_intake import search_service
from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.domain.referral import ReferralSubmission
from referral_intake.domain.search import Interval, TaskQuery, TokenMatch
from referral_intake.search_service import ConditionMatchesMany, ConditionMatchesUnreadable
from referral_intake.service import IntakeService
from referral_intake.triage_facts import TriageFacts
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import Principal
from support.events import referral_triaged
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
ODS = "B82005"
WRITER = Principal(subject="gp-system", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code=ODS)
OTHER = Principal(subject="gp-other", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code="Y01234")
HUB = Principal(subject="engine", scopes=frozenset({"referrals:write-on-behalf", "referrals:read"}), ods_code=None)


def _submission(value: str, system: str = "urn:s", ods: str = ODS) -> ReferralSubmission:
    body = gp_referral(rng=random.Random(), ods_code=ods)
    body["identifier"] = [{"system": system, "value": value}]
    return submission_from_body(json.dumps(body).encode(), max_depth=64, today=date.today())


def _condition(value: str, system: str | None = "urn:s") -> list[tuple[TokenMatch, ...]]:
    return [(TokenMatch(system, value),)]


async def test_the_condition_returns_its_one_readable_match_and_stores_nothing():
    unit, service = FakeIntakeUnit(), IntakeService()
    first = await service.submit(unit, _submission("a"), WRITER, None)
    again = await service.submit(unit, _submission("b"), WRITER, None, condition=_condition("a"))
    assert (again.created, again.referral.id) == (False, first.referral.id)
    assert (len(unit.referrals.by_id), len(unit.events)) == (1, 1)


async def test_more_than_one_match_or_a_hidden_one_is_refused_and_another_organisations_is_not_seen():
    unit, service = FakeIntakeUnit(), IntakeService()
    await service.submit(unit, _submission("a", "urn:one"), WRITER, None)
    await service.submit(unit, _submission("a", "urn:two"), WRITER, None)
    with pytest.raises(ConditionMatchesMany):
        await service.submit(unit, _submission("c"), WRITER, None, condition=_condition("a", None))
    with pytest.raises(ConditionMatchesUnreadable):  # the practice's own, which the engine may not read
        await service.submit(unit, _submission("c"), HUB, None, condition=_condition("a", "urn:one"))
    theirs = await service.submit(
        unit, _submission("a", "urn:one", "Y01234"), OTHER, None, condition=_condition("a", "urn:one")
    )
    assert theirs.created


async def test_every_fact_that_changes_a_task_moves_it_in_the_index_never_backwards():
    unit = FakeIntakeUnit()
    stored = (await IntakeService(clock=lambda: T0).submit(unit, _submission("a"), WRITER, None)).referral
    assert unit.tasks.rows[stored.id] == ("requested", T0)

    await TriageFacts(clock=lambda: T0 + timedelta(hours=1)).record_triage(
        unit, referral_triaged(stored.id, "declined")
    )
    assert unit.tasks.rows[stored.id] == ("rejected", T0 + timedelta(hours=1))
    await TriageFacts(clock=lambda: T0).record_triage(unit, referral_triaged(stored.id, "declined"))  # a slow clock
    assert unit.tasks.rows[stored.id][1] == T0 + timedelta(hours=1)


async def test_a_task_search_pages_in_change_order_within_what_the_caller_may_read():
    unit = FakeIntakeUnit()
    ids = []
    for hour, (principal, ods) in enumerate([(WRITER, ODS), (OTHER, "Y01234"), (WRITER, ODS), (WRITER, ODS)]):
        service = IntakeService(clock=lambda hour=hour: T0 + timedelta(hours=hour))
        ids.append((await service.submit(unit, _submission(str(hour), ods=ods), principal, None)).referral.id)

    first = await search_service.tasks(unit, TaskQuery(), WRITER, count=2, after=None)
    assert (first.total, [v.referral.id for v in first.tasks], first.more) == (3, [ids[0], ids[2]], True)
    rest = await search_service.tasks(unit, TaskQuery(), WRITER, count=2, after=first.last)
    assert ([v.referral.id for v in rest.tasks], rest.more) == ([ids[3]], False)
    since = TaskQuery(updated=(Interval(T0 + timedelta(hours=2), None),), statuses=frozenset({"requested"}))
    assert [
        v.referral.id for v in (await search_service.tasks(unit, since, WRITER, count=10, after=None)).tasks
    ] == ids[2:]
