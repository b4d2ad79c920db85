"""The dashboard's own table macro gives the same HTML as nhsuk-frontend-jinja's `table` for every table it shows.

The dashboard stopped calling that macro because it cost most of the page's time (issue 9's 100 ms);
the markup must not change for it: same elements, classes, scopes, captions and escaping.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from jinja2 import ChoiceLoader, DictLoader

from reporting.domain.cases import (
    SCORED_MEASURES,
    CaseSummary,
    LonelinessChange,
    score_change,
    sessions_used,
    zero_filled_reasons,
)
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


def _render(environment_loader_first: DictLoader | None, summary: Summary) -> str:
    environment = page_environment("reporting")
    if environment_loader_first is not None:
        environment.loader = ChoiceLoader([environment_loader_first, environment.loader])  # type: ignore[list-item]
    # As reporting.pages gives it, for a page with no period views (the all-time tables are what is compared).
    form = read_filter_form({"from": None, "to": None, "area": None, "route": None, "referrer_kind": None})
    context = {
        "title": "Referrals dashboard",
        "summary": summary,
        "refresh_seconds": 5,
        "refreshing": False,
        "form": form,
        "errors": form.errors,
        "figures": None,
        "charts": {},
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
