"""Each connector's caseload against capacity (roster.caseloads.v1): the same reading of the connectors that
gives the service status its free places, published when any connector's figures change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signpost_contracts.events.triage import RosterCaseloads
from support.fakes.triage_status import FakeStatusRecords, FakeStatusUnit
from triage.adapters.caseload_events import roster_caseloads_event
from triage.adapters.events import Cause
from triage.adapters.status_store import published_record
from triage.domain.assignment import ConnectorLoad
from triage.domain.caseloads import Caseload, caseloads, connectors_taking_work, places_free
from triage.domain.policy import Policy
from triage.status_publisher import publish_if_changed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(seconds=5)


def connector(connector_id: str, capacity: int, caseload: int, **overrides: Any) -> ConnectorLoad:
    fields: dict[str, Any] = {"kind": "paid", "areas": ("LS",), "status": "available", "active": True}
    return ConnectorLoad(id=connector_id, capacity=capacity, caseload=caseload, **{**fields, **overrides})


ROSTER = (
    connector("c-full", 2, 2),
    connector("a-room", 3, 1),
    connector("d-leave", 4, 1, status="on-leave"),
    connector("b-gone", 2, 0, active=False, kind="volunteer"),
    connector("e-nil", 0, 0),
)


def test_only_connectors_taking_new_work_have_free_places_and_they_add_up_to_the_service_total():
    loads = caseloads(ROSTER)
    assert [(c.connector_id, c.places_free) for c in loads] == [
        ("a-room", 2),
        ("b-gone", 0),
        ("c-full", 0),
        ("d-leave", 0),  # three places unused, but on leave: none is offered
        ("e-nil", 0),
    ]
    assert places_free(loads) == 2
    # A connector at nil capacity is available yet does not keep the service out of "no-capacity".
    assert connectors_taking_work(loads) == 2


def test_each_connector_is_listed_with_kind_capacity_open_cases_and_whether_they_take_new_work():
    by_id = {c.connector_id: c for c in caseloads(ROSTER)}
    assert by_id["b-gone"] == Caseload("b-gone", "volunteer", 2, 0, taking_new_work=False)
    assert by_id["d-leave"] == Caseload("d-leave", "paid", 4, 1, taking_new_work=False)
    assert by_id["c-full"] == Caseload("c-full", "paid", 2, 2, taking_new_work=True)


def test_the_same_figures_at_the_same_moment_make_the_same_event_id_and_a_later_check_a_new_one():
    loads = caseloads(ROSTER)
    first = roster_caseloads_event(loads, NOW, Cause(None, "one"))
    again = roster_caseloads_event(loads, NOW, Cause(None, "two"))
    later = roster_caseloads_event(loads, LATER, Cause(None, "one"))
    assert first.id == again.id
    assert later.id != first.id
    payload = RosterCaseloads.model_validate(first.data)
    assert (first.type, first.subject, payload.as_of) == ("roster.caseloads.v1", "service", NOW)
    assert [c.connector_id for c in payload.connectors] == ["a-room", "b-gone", "c-full", "d-leave", "e-nil"]


async def published_types(records: FakeStatusRecords, policy: Policy) -> list[str]:
    unit = FakeStatusUnit(records)
    await publish_if_changed(unit, policy, Cause(None, "test"))
    return [event.type for event in unit.events]


async def test_a_case_moving_between_connectors_republishes_the_caseloads_but_not_the_unchanged_status(
    policy: Policy,
):
    records = FakeStatusRecords(loads=caseloads([connector("a", 2, 1), connector("b", 2, 0)]))
    assert await published_types(records, policy) == ["service.status.v1", "roster.caseloads.v1"]
    assert await published_types(records, policy) == []
    # A reassignment: one place freed, one taken, so the service still has two free places.
    records.loads = caseloads([connector("a", 2, 0), connector("b", 2, 1)])
    assert await published_types(records, policy) == ["roster.caseloads.v1"]
    assert [(c["connector_id"], c["open_cases"]) for c in records.published["caseloads"]] == [("a", 0), ("b", 1)]


def test_a_record_left_by_a_triage_without_caseloads_is_read_as_its_status_alone():
    # So the first check after an upgrade publishes the caseloads, and the unchanged status not again.
    assert published_record('{"capacity": "capacity", "places_free": 1}') == {
        "status": {"capacity": "capacity", "places_free": 1}
    }
    assert published_record("null") == {}
    assert published_record({"status": {"waiting": 0}, "caseloads": []}) == {"status": {"waiting": 0}, "caseloads": []}
