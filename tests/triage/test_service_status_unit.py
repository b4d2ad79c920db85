"""The service status referrers see: capacity in Gravity's terms, who the service is for, published on change."""

from __future__ import annotations

from typing import Any

import pytest

from signpost_contracts.events.triage import ServiceStatus
from support.fakes.triage_status import FakeStatusRecords, FakeStatusUnit
from triage.adapters.events import Cause
from triage.domain.policy import Policy
from triage.domain.service_status import CapacityFigures, capacity_of, service_status
from triage.status_publisher import publish_if_changed

pytestmark = pytest.mark.unit


def figures(**overrides: Any) -> CapacityFigures:
    values: dict[str, Any] = {"connectors_taking_work": 3, "places_free": 2, "waiting": 0, "typical_wait_days": None}
    return CapacityFigures(**{**values, **overrides})


@pytest.mark.parametrize(
    ("taking_work", "free", "waiting", "expected"),
    [
        (3, 2, 0, "capacity"),
        (3, 1, 4, "capacity"),  # a place free somewhere: a referral may be placed at once
        (3, 0, 0, "waitlist"),  # every place taken: an accepted referral would wait
        (3, 0, 7, "waitlist"),
        (0, 0, 7, "no-capacity"),  # no one taking new work at all (all on leave)
    ],
)
def test_capacity_follows_free_places_and_who_takes_new_work(taking_work, free, waiting, expected):
    assert capacity_of(figures(connectors_taking_work=taking_work, places_free=free, waiting=waiting)) == expected


def test_the_status_says_who_the_service_is_for_from_the_policy(policy: Policy):
    with_cohorts = Policy.model_validate(
        {
            **policy.model_dump(),
            "age": {"minimum": 18, "maximum": 95},
            "cohorts": [{"id": "carers", "description": "people caring for someone", "when": {"needs_any": ["carer"]}}],
            "decline_rules": [
                {"id": "x", "description": "internal", "when": {"needs_any": ["housing"]}, "reason": "Ask housing."}
            ],
        }
    )
    view = service_status(with_cohorts, figures(typical_wait_days=12.345))
    assert (view.area_name, view.postcode_prefixes) == ("Leeds", ("LS", "BD1"))
    assert (view.age_minimum, view.age_maximum) == (18, 95)
    assert view.cohorts == ("people caring for someone",)
    assert view.exclusions == ("Ask housing.",), "the reason the referrer is told, not the internal description"
    assert view.typical_wait_days == 12.3


async def test_a_status_is_published_once_and_again_only_when_it_changes(policy: Policy):
    records = FakeStatusRecords(figures(places_free=1))
    cause = Cause(None, "test")
    first, unchanged = FakeStatusUnit(records), FakeStatusUnit(records)
    assert await publish_if_changed(first, policy, cause) is True
    assert await publish_if_changed(unchanged, policy, cause) is False
    records.now = figures(places_free=0, waiting=1)
    changed = FakeStatusUnit(records)
    assert await publish_if_changed(changed, policy, cause) is True

    assert unchanged.events == []
    # Only the status here: the caseloads (none, in this fake) are published once, with the first status.
    [started] = [event for event in first.events if event.type == "service.status.v1"]
    [now] = changed.events
    assert (started.type, started.subject) == ("service.status.v1", "service")
    assert ServiceStatus.model_validate(started.data).capacity == "capacity"
    waiting = ServiceStatus.model_validate(now.data)
    assert (waiting.capacity, waiting.places_free, waiting.waiting) == ("waitlist", 0, 1)
