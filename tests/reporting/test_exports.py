"""Commissioner exports on the real broker and PostgreSQL: a fixed dataset, figures worked out by hand, suppressed.

The dataset (March 2019): 12 accepted referrals (r1-r12), each assigned i days after receipt, first
reached 2 days later, closed on 28 March after i sessions with UCLA-3 measured at baseline and closing;
6 declined (outside the area, no decile known); and one referral from February that must not count.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from signpost_contracts.events.referrals import PersonSummary, Referrer
from support.auth import bearer
from support.events import (
    case_closed,
    contact_recorded,
    measures_recorded,
    referral_assigned,
    referral_received,
    referral_triaged,
)

pytestmark = pytest.mark.integration

MARCH = datetime(2019, 3, 2, 9, 0, tzinfo=UTC)
CLOSED = datetime(2019, 3, 28, 12, 0, tzinfo=UTC)
# r1..r12: (UCLA-3 baseline, closing) and the area's IMD decile
UCLA = [(9, 5), (8, 6), (7, 7), (6, 4), (9, 9), (5, 3), (9, 4), (7, 5), (8, 3), (4, 4), (6, 6), (3, 3)]
DECILES = [1, 1, 1, 1, 1, 2, 2, 7, 7, 7, 7, 7]
CHANNELS = ["fhir-rest"] * 7 + ["self-referral"] * 3 + ["bars-message"] * 2
SELF = Referrer(kind="self")


def _accepted(i: int, run: str) -> list:
    rid = f"{run}-r{i}"
    received = MARCH + timedelta(hours=i)
    assigned = received + timedelta(days=i)
    channel = CHANNELS[i - 1]
    baseline, closing = UCLA[i - 1]
    person = PersonSummary(age_band="65-74", postcode_district="LS6", imd_decile=DECILES[i - 1])
    extra = {"referrer": SELF} if channel == "self-referral" else {}
    return [
        referral_received(rid, at=received, channel=channel, person=person, **extra),
        referral_triaged(rid, at=received + timedelta(hours=1)),
        referral_assigned(rid, at=assigned),
        contact_recorded(rid, at=assigned + timedelta(days=2)),
        measures_recorded(rid, stage="baseline", at=assigned, ucla3=None, ucla3_total=baseline, ons4=None),
        measures_recorded(rid, stage="closing", at=CLOSED, ucla3=None, ucla3_total=closing, ons4=None),
        case_closed(rid, at=CLOSED, sessions_used=i, reason="goals-met" if i <= 8 else "connected-onward"),
    ]


def _declined(i: int, run: str) -> list:
    rid = f"{run}-d{i}"
    person = PersonSummary(age_band="65-74", postcode_district="WF1")
    return [
        referral_received(rid, at=MARCH + timedelta(days=1, hours=i), person=person),
        referral_triaged(rid, "declined", at=MARCH + timedelta(days=1, hours=i + 1)),
    ]


def _february(run: str) -> list:
    rid = f"{run}-feb"
    return [
        referral_received(rid, at=datetime(2019, 2, 27, tzinfo=UTC)),
        referral_triaged(rid, at=datetime(2019, 2, 27, 1, tzinfo=UTC)),
        referral_assigned(rid, at=datetime(2019, 2, 27, 2, tzinfo=UTC)),
        measures_recorded(rid, stage="baseline", at=datetime(2019, 2, 27, 3, tzinfo=UTC), ucla3=None, ucla3_total=9),
        measures_recorded(rid, stage="closing", at=datetime(2019, 2, 28, tzinfo=UTC), ucla3=None, ucla3_total=3),
        case_closed(rid, at=datetime(2019, 2, 28, tzinfo=UTC), sessions_used=40),
    ]


@pytest.fixture
async def march(reporting):
    run = "exp"
    events = [e for i in range(1, 13) for e in _accepted(i, run)]
    events += [e for i in range(1, 7) for e in _declined(i, run)] + _february(run)
    await reporting.deliver(*events)
    return reporting


async def _export(reporting, name: str, fmt: str = "json"):
    response = await reporting.client.get(
        f"/api/exports/{name}",
        params={"from": "2019-03-01", "to": "2019-03-31", "format": fmt},
        headers=bearer("reporting:read"),
    )
    assert response.status_code == 200, response.text
    return response


async def test_referral_figures_for_a_period_match_the_hand_computed_ones_with_small_counts_hidden(march):
    body = (await _export(march, "referrals")).json()
    tables = body["tables"]
    assert body["period"] == {"from": "2019-03-01", "to": "2019-03-31"}
    assert tables["referrals"]["all"]["count"] == 18  # the February referral is outside the period
    # 13 by FHIR (7 accepted, 6 declined); 3 self-referrals and 2 BaRS are small: both hidden.
    assert tables["by_route"] == {
        "fhir-rest": {"count": 13},
        "self-referral": {"count": None},
        "bars-message": {"count": None},
    }
    # 3 self-referrers alone would be hidden, and 18 - 15 would give them away: GP's 15 is hidden too.
    assert tables["by_referrer_kind"] == {"gp": {"count": None}, "self": {"count": None}}
    assert tables["by_decision"] == {"accepted": {"count": 12}, "declined": {"count": 6}}
    assert tables["declined_because"] == {"outside-service-area": {"count": 6}}
    assert tables["by_age_band"] == {"65-74": {"count": 18}}
    # Decile 2 has 2 people: hidden, and one more cell with it so that 18 minus the rest cannot show it.
    deciles = tables["by_imd_decile"]
    assert deciles["2"] == {"count": None}
    assert deciles["unknown"] == {"count": 6}
    assert sorted(k for k, v in deciles.items() if v["count"] is None) in (["1", "2"], ["2", "7"])
    # Assigned i days after receipt (i = 1..12): median 6.5, 90th percentile 10.9 (linear interpolation).
    assert tables["waits"]["received_to_assigned"] == {"people": 12, "median_days": 6.5, "p90_days": 10.9}
    assert tables["waits"]["assigned_to_first_contact"] == {"people": 12, "median_days": 2.0, "p90_days": 2.0}
    # 8 closed goals-met, 4 connected onward: 4 is hidden, and so is the 8 beside it.
    assert tables["closure_reasons"] == {"goals-met": {"count": None}, "connected-onward": {"count": None}}
    assert tables["sessions"]["closed_cases"] == {"count": 12, "mean_sessions": 6.5}  # 78 sessions / 12
    assert "by_route/self-referral/count" in body["suppressed"]


async def test_outcome_figures_and_core20plus5_reach_match_the_hand_computed_ones(march):
    tables = (await _export(march, "outcomes")).json()["tables"]
    ucla = tables["outcomes"]["ucla3_total"]
    # Baselines sum to 81 and closings to 59 over 12 people; 7 improved, 5 did not.
    assert ucla == {
        "people": 12,
        "baseline_mean": 6.75,
        "closing_mean": 4.917,
        "mean_change": -1.833,
        "share_improved": 0.583,
    }
    # 9 people lonely at baseline (6 or more); 5 below 6 at closing, 4 still lonely: that 4 would show, so hidden.
    lonely = tables["outcomes"]["ucla3_total_at_or_above_6"]
    assert lonely == {"people_lonely_at_baseline": 9, "share_no_longer_lonely": None}
    assert tables["outcomes"]["life_satisfaction"]["people"] == 0  # ONS4 not asked in this dataset
    # Core20PLUS5 (deciles 1-2): r1-r7. Baselines 53, closings 38; 5 improved and 2 did not, so hidden.
    core = tables["outcomes_core20"]["ucla3_total"]
    assert core == {
        "people": 7,
        "baseline_mean": 7.571,
        "closing_mean": 5.429,
        "mean_change": -2.143,
        "share_improved": None,
    }
    # Of 12 referrals with a known decile, 7 from deciles 1-2; the same 12 people have outcomes.
    assert tables["core20plus5"] == {
        "referrals": {"with_known_decile": 12, "share_deciles_1_2": 0.583},
        "outcomes": {"with_known_decile": 12, "share_deciles_1_2": 0.583},
    }


async def test_the_csv_export_holds_the_same_figures_with_an_asterisk_for_each_hidden_one(march):
    response = await _export(march, "referrals", "csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="signpost-referrals-2019-03-01-to-2019-03-31.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    values = {(r["table"], r["category"], r["measure"]): r["value"] for r in rows}
    assert values[("by_route", "fhir-rest", "count")] == "13"
    assert values[("by_route", "self-referral", "count")] == "*"
    assert values[("waits", "received_to_assigned", "p90_days")] == "10.9"
    json_body = (await _export(march, "referrals")).json()
    hidden = {tuple(key.split("/")) for key in json_body["suppressed"]}
    assert {k for k, v in values.items() if v == "*"} == hidden


async def test_a_period_that_ends_before_it_starts_is_refused_with_the_reason(reporting):
    response = await reporting.client.get(
        "/api/exports/referrals", params={"from": "2019-03-31", "to": "2019-03-01"}, headers=bearer("reporting:read")
    )
    assert response.status_code == 422
    assert "before it starts" in response.text


async def test_exports_need_the_reporting_read_scope(reporting):
    response = await reporting.client.get(
        "/api/exports/outcomes", params={"from": "2019-03-01", "to": "2019-03-31"}, headers=bearer("triage:read")
    )
    assert response.status_code == 403


async def test_a_referrer_hears_what_became_of_the_referrals_it_sent_in_the_period(march):
    response = await march.client.get(
        "/api/referrers/b82005/feedback",
        params={"from": "2019-03-01", "to": "2019-03-31"},
        headers=bearer("reporting:read"),
    )
    assert response.status_code == 200, response.text
    tables = response.json()["tables"]
    # B82005 sent r1-r7 and r11-r12 (accepted and closed) and the 6 declined; r8-r10 were self-referrals.
    assert tables["referrals"] == {
        "sent": {"count": 15},
        "accepted": {"count": 9},
        "declined": {"count": 6},
        "redirected": {"count": 0},
        "waiting": {"count": 0},
        "in_support": {"count": 0},
        "closed": {"count": 9},
        "awaiting_triage": {"count": 0},
    }
    assert tables["declined_because"] == {"outside-service-area": {"count": 6}}
    assert tables["closure_reasons"] == {"connected-onward": {"count": 2}, "goals-met": {"count": 7}}
    # Baselines 62, closings 47 over 9 people; 5 improved and 4 did not, so the share is hidden.
    assert tables["outcomes"]["ucla3_total"] == {
        "people": 9,
        "baseline_mean": 6.889,
        "closing_mean": 5.222,
        "mean_change": -1.667,
        "share_improved": None,
    }
    csv_response = await march.client.get(
        "/api/referrers/B82005/feedback",
        params={"from": "2019-03-01", "to": "2019-03-31", "format": "csv"},
        headers=bearer("reporting:read"),
    )
    assert "referrals,sent,count,15" in csv_response.text
