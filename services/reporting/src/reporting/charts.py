"""The dashboard's charts as data for the page kit's charts.js (Chart.js), from the same figures as the tables.

Each spec goes into the page as a JSON data block (`<script type="application/json">`), never as script,
so the page's CSP stays 'self'. A chart only decorates: the table beside it is the source of truth.
"""

from __future__ import annotations

from typing import Any

from reporting.domain.dashboard import Dashboard
from reporting.filters_form import ROUTE_LABELS

FUNNEL_LABELS = {
    "received": "Received",
    "triaged": "Triaged",
    "assigned_or_waiting": "Assigned or waiting",
    "first_contact": "First contact",
    "closed": "Closed",
}
DECISION_LABELS = {"accepted": "Accepted", "declined": "Declined", "redirected": "Redirected", "undecided": "Not yet"}
WAIT_LABELS = {
    "received_to_assigned": "Received to assigned",
    "assigned_to_first_contact": "Assigned to first contact",
}


def _bar(labels: list[str], datasets: list[tuple[str, list[Any]]], **options: Any) -> dict[str, Any]:
    return {"labels": labels, "datasets": [{"label": label, "data": data} for label, data in datasets], **options}


def charts(figures: Dashboard) -> dict[str, dict[str, Any]]:
    """Chart specs by the id of their data block."""
    funnel = vars(figures.funnel)
    days = [f"{day.day.day} {day.day:%b}" for day in figures.arrivals]
    arrivals = [
        (ROUTE_LABELS.get(route, route), [day.by_route[route] for day in figures.arrivals]) for route in figures.routes
    ]
    waits = list(figures.waits.values())
    return {
        "chart-funnel": _bar(
            list(FUNNEL_LABELS.values()),
            [("Referrals", [funnel[stage] for stage in FUNNEL_LABELS])],
            horizontal=True,
        ),
        "chart-arrivals": _bar(days, arrivals or [("Referrals", [0 for _ in days])], stacked=True),
        "chart-decisions": _bar(
            [DECISION_LABELS.get(name, name) for name in figures.decisions],
            [("Referrals", list(figures.decisions.values()))],
        ),
        "chart-waits": _bar(
            [WAIT_LABELS.get(name, name) for name in figures.waits],
            [
                ("Median (days)", [w.median_days for w in waits]),
                ("90th percentile (days)", [w.p90_days for w in waits]),
            ],
        ),
    }
