"""The reporting views the bench times, and the timing: each view requested n times over real HTTP.

Adding a view to the bench is one line in `views()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import httpx

from signpost_devstack.bench_reporting.fill import busiest_referrer

GOAL_P95_MS = 100.0
# The dashboard's session cookie (reporting.pages.COOKIE_NAME), as the kit's sign-in form sets it.
DASHBOARD_COOKIE = "signpost_reporting_token"


@dataclass(frozen=True)
class View:
    name: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    cookie: bool = False  # the HTML dashboard is signed in with its cookie; the API takes the bearer header


@dataclass(frozen=True)
class Timing:
    view: View
    latencies_ms: list[float]
    budget_exhausted: bool

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    @property
    def passed(self) -> bool:
        return self.percentile(0.95) <= GOAL_P95_MS


def _periods(today: date) -> dict[str, tuple[date, date]]:
    """The last whole month, quarter and year before today, as a commissioner asks for them."""
    month_end = today.replace(day=1) - timedelta(days=1)
    quarter_first_month = (today.month - 1) // 3 * 3 + 1
    quarter_end = today.replace(month=quarter_first_month, day=1) - timedelta(days=1)
    quarter_start_month = (quarter_end.month - 1) // 3 * 3 + 1
    return {
        "month": (month_end.replace(day=1), month_end),
        "quarter": (quarter_end.replace(month=quarter_start_month, day=1), quarter_end),
        "year": (
            today.replace(year=today.year - 1, month=1, day=1),
            today.replace(year=today.year - 1, month=12, day=31),
        ),
    }


def views(today: date) -> list[View]:
    periods = _periods(today)
    listed = [View("summary", "/api/summary"), View("dashboard", "/", (("refresh", "off"),), cookie=True)]
    for export in ("referrals", "outcomes"):
        for period, (start, end) in periods.items():
            for fmt in ("json", "csv"):
                params = (("from", str(start)), ("to", str(end)), ("format", fmt))
                listed.append(View(f"{export} {period} {fmt}", f"/api/exports/{export}", params))
    month, year = periods["month"], periods["year"]
    # The dashboard's default: the last four weeks to today, unfiltered; and one month filtered by area.
    listed.append(View("dashboard api 4 weeks", "/api/dashboard"))
    area = (("from", str(month[0])), ("to", str(month[1])), ("area", "LS6"))
    listed.append(View("dashboard api month LS6", "/api/dashboard", area))
    ods = busiest_referrer()
    for period, (start, end) in (("month", month), ("year", year)):
        listed.append(
            View(f"feedback {period}", f"/api/referrers/{ods}/feedback", (("from", str(start)), ("to", str(end))))
        )
    return listed


def time_view(client: httpx.Client, token: str, view: View, *, n: int, warm_up: int, budget_s: float) -> Timing:
    """n sequential requests after warm_up, stopping early (at least one timed) when budget_s runs out."""
    headers = {} if view.cookie else {"Authorization": f"Bearer {token}"}
    cookies = {DASHBOARD_COOKIE: token} if view.cookie else {}

    def one() -> float:
        started = time.perf_counter()
        response = client.get(view.path, params=view.params, headers=headers, cookies=cookies)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{view.name}: {view.path} answered {response.status_code}: {response.text[:300]}")
        return elapsed

    for _ in range(warm_up):
        one()
    deadline = time.monotonic() + budget_s
    latencies: list[float] = []
    while len(latencies) < n and (not latencies or time.monotonic() < deadline):
        latencies.append(one())
    return Timing(view, latencies, budget_exhausted=len(latencies) < n)


def table(timings: list[Timing]) -> str:
    width = max(len(t.view.name) for t in timings)
    lines = [
        f"{'view':<{width}}  {'n':>5}  {'p50 ms':>9}  {'p95 ms':>9}  {'p99 ms':>9}  goal p95 <= {GOAL_P95_MS:.0f} ms"
    ]
    for t in timings:
        verdict = "PASS" if t.passed else "FAIL"
        note = " (time budget ran out)" if t.budget_exhausted else ""
        lines.append(
            f"{t.view.name:<{width}}  {len(t.latencies_ms):>5}  {t.percentile(0.5):>9.1f}  {t.percentile(0.95):>9.1f}"
            f"  {t.percentile(0.99):>9.1f}  {verdict}{note}"
        )
    return "\n".join(lines)
