"""Each service's pipeline health from its instances' newest reports: what is added up, what is not, and stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reporting.domain.pipeline_health import InstanceReport, service_health

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REFERRALS = ("signpost.triage", "signpost.referrals")


def _report(instance: str, seconds_ago: float, *, lag: int = 0, **figures: int) -> InstanceReport:
    values = {"outbox_waiting": 0, "outbox_parked": 0, "dead_letters_sent": 0, "dead_letters_parked": 0, **figures}
    return InstanceReport(
        service="triage",
        instance=instance,
        as_of=NOW - timedelta(seconds=seconds_ago),
        every_seconds=20,
        lag={REFERRALS: lag},
        **values,
    )


def test_lag_and_dead_letters_sent_add_up_over_the_instances_but_the_shared_outbox_is_counted_once():
    (health,) = service_health(
        [
            _report("a", 5, lag=4, dead_letters_sent=1, outbox_waiting=7, outbox_parked=2),
            _report("b", 1, lag=6, dead_letters_sent=2, outbox_waiting=9, outbox_parked=2),
        ],
        NOW,
    )
    assert (health.instances, health.stale, health.as_of) == (2, False, NOW - timedelta(seconds=1))
    assert health.lag == {REFERRALS: 10}
    assert health.consumer_lag == 10
    assert health.dead_letters_sent == 3
    assert (health.outbox_waiting, health.outbox_parked) == (9, 2), "the newest reading of the one outbox"


def test_an_instance_silent_for_three_intervals_is_left_out_of_the_sums():
    (health,) = service_health([_report("gone", 61, lag=500, dead_letters_sent=9), _report("b", 2, lag=1)], NOW)
    assert (health.instances, health.stale, health.consumer_lag, health.dead_letters_sent) == (1, False, 1, 0)


def test_a_service_none_of_whose_instances_reported_lately_is_stale_with_its_newest_figures():
    (health,) = service_health([_report("a", 300, lag=3), _report("b", 90, lag=8)], NOW)
    assert (health.stale, health.instances, health.consumer_lag, health.as_of) == (
        True,
        1,
        8,
        NOW - timedelta(seconds=90),
    )


def test_one_late_report_is_not_yet_stale():
    (health,) = service_health([_report("a", 59)], NOW)
    assert health.stale is False


def test_one_row_per_service_by_name():
    reports = [
        _report("a", 1),
        InstanceReport("notifications", "n", NOW, 20, 0, 0, 0, 0),
        InstanceReport("referral_intake", "i", NOW, 20, 0, 0, 0, 0),
    ]
    assert [h.service for h in service_health(reports, NOW)] == ["notifications", "referral_intake", "triage"]
