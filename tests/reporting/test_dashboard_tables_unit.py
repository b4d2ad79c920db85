"""The dashboard's own table macro gives the same HTML as nhsuk-frontend-jinja's `table` for every table it shows.

The dashboard stopped calling that macro because it cost most of the page's time (issue 9's 100 ms);
the markup must not change for it: same elements, classes, scopes, captions and escaping.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from jinja2 import ChoiceLoader, DictLoader

from reporting.charts import charts
from reporting.domain.caseloads import ConnectorLoad
from reporting.domain.cases import (
    SCORED_MEASURES,
    CaseSummary,
    LonelinessChange,
    score_change,
    sessions_used,
    zero_filled_reasons,
)
from reporting.domain.dashboard import (
    AreaWaitlist,
    CaseFlags,
    Dashboard,
    DayArrivals,
    Filters,
    Funnel,
    ReferrerDeclines,
)
from reporting.domain.export_report import Wait
from reporting.domain.pipeline_health import ServiceHealth
from reporting.domain.summary import (
    ReferrerCounts,
    Summary,
    UrgentCounts,
    zero_filled_decisions,
    zero_filled_statuses,
)
from reporting.filters_form import REFERRER_KIND_LABELS, ROUTE_LABELS, read_filter_form, select_items
from signpost_web.pages import page_environment

pytestmark = pytest.mark.unit

NHSUK_TABLE = (
    '{% macro table(params) %}{% from "nhsuk/components/tables/macro.jinja" import table as nhsuk_table %}'
    "{{ nhsuk_table(params) }}{% endmacro %}"
)


def _summary(*, closed: int) -> Summary:
    scores = {m: score_change(closed, 6.25 if closed else None, 5.5 if closed else None) for m in SCORED_MEASURES}
    cases = CaseSummary(
        open=12,
        waiting=3,
        closed=closed,
        withdrawn=1,
        linked=0,
        closure_reasons=zero_filled_reasons({"goals-met": closed}),
        sessions=sessions_used(closed * 4, closed),
        scores=scores,
        ons_loneliness=LonelinessChange(closed, closed // 2, closed - closed // 2, 0),
    )
    return Summary(
        generated_at=datetime(2026, 12, 2, 15, 30, tzinfo=UTC),
        total_referrals=1_000_000,
        awaiting_receipt=2,
        by_status=zero_filled_statuses({"accepted": 700, "declined": 200}),
        by_decision=zero_filled_decisions({"accepted": 700}),
        notifications_sent=900,
        notifications_failed=4,
        by_referrer=[ReferrerCounts("Y10000", 70, 7), ReferrerCounts(None, 8, 0), ReferrerCounts("<b>&", 1, 1)],
        cases=cases,
        urgent=UrgentCounts(2, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), 1),
    )


def _normalised(html: str) -> str:
    return re.sub(r"\s*(<|>)\s*", r"\1", re.sub(r"\s+", " ", html))


def _period(*, empty: bool) -> Dashboard:
    """A period's figures with a row in every table, or none where a table can be empty (its one spanning cell)."""
    at = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    return Dashboard(
        generated_at=at,
        start=date(2026, 11, 30),
        end=date(2026, 12, 1),
        filters=Filters(area="LS6"),
        funnel=Funnel(12, 11, 9, 7, 2, 5, 1),
        routes=[] if empty else ["fhir-rest", "self-referral"],
        arrivals=[DayArrivals(date(2026, 11, 30), 0, {})]
        if empty
        else [DayArrivals(date(2026, 11, 30), 5, {"fhir-rest": 3, "self-referral": 2})],
        decisions={"accepted": 9, "declined": 1, "redirected": 1, "undecided": 1},
        waits={"received_to_assigned": Wait(7, 1.25, 3.5), "assigned_to_first_contact": Wait(0, None, None)},
        waitlist=[] if empty else [AreaWaitlist(None, 2, at, 4.5)],
        cases=CaseFlags(7, 1, 0),
        referrers=[]
        if empty
        else [ReferrerDeclines("<b>&", 1, 1, {"not-in-cohort": 1}, {}), ReferrerDeclines(None, 0, 1)],
        urgent=UrgentCounts(1, at, 2),
        notifications_sent=20,
        notifications_failed=1,
        last_event_applied_at=at,
        caseloads=[] if empty else [ConnectorLoad("c-1", "paid", 10, 11, True, at)],
        pipeline_health=[]
        if empty
        else [ServiceHealth("triage", at, True, 1, 2, 1, 3, 0, {("signpost.triage", "signpost.referrals"): 4})],
    )


def _render(environment_loader_first: DictLoader | None, summary: Summary, figures: Dashboard | None = None) -> str:
    environment = page_environment("reporting")
    if environment_loader_first is not None:
        environment.loader = ChoiceLoader([environment_loader_first, environment.loader])  # type: ignore[list-item]
    # As reporting.pages gives it, with or without the period views.
    form = read_filter_form({"from": None, "to": None, "area": None, "route": None, "referrer_kind": None})
    context = {
        "title": "Referrals dashboard",
        "summary": summary,
        "refresh_seconds": 5,
        "refreshing": False,
        "form": form,
        "errors": form.errors,
        "figures": figures,
        "charts": charts(figures) if figures else {},
        "route_items": select_items(ROUTE_LABELS, None, "Any route"),
        "kind_items": select_items(REFERRER_KIND_LABELS, None, "Any kind of referrer"),
        "route_labels": ROUTE_LABELS,
        "stopped": True,
        "refresh_off_url": "/?refresh=off",
        "refresh_on_url": "/",
    }
    return environment.get_template("dashboard.html").render(cspNonce="n", service_name="s", **context)


@pytest.mark.parametrize("closed", [0, 9])
def test_the_dashboards_tables_are_the_nhsuk_macros_markup(closed: int) -> None:
    summary = _summary(closed=closed)
    ours = _render(None, summary)
    theirs = _render(DictLoader({"figures_table.html": NHSUK_TABLE}), summary)
    assert ours.count("<table") == 10
    assert "&lt;b&gt;&amp;" in ours
    assert _normalised(ours) == _normalised(theirs)


@pytest.mark.parametrize("empty", [False, True])
def test_the_period_views_tables_are_the_nhsuk_macros_markup(empty: bool) -> None:
    summary, figures = _summary(closed=9), _period(empty=empty)
    ours = _render(None, summary, figures)
    theirs = _render(DictLoader({"figures_table.html": NHSUK_TABLE}), summary, figures)
    assert ours.count("<table") == 19
    assert ("colspan=" in ours) is empty
    assert _normalised(ours) == _normalised(theirs)
