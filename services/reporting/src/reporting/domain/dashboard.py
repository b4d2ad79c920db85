"""The operations dashboard's figures for a period of receipt, with its filters.

Every view is over the same referrals: those *received* in the period (both days inclusive, UTC) that
match every filter given (the person's postcode district, the route in, the referrer's kind). A referral
whose receipt has not reached reporting yet has no receipt date, so it is in no period (the all-time
summary counts it as awaiting receipt). Where a referral stands (waiting, stalled, could not be
contacted, an urgent message unconfirmed) is as of the moment the figures are read.

- Funnel: received; triaged (a decision is known); assigned or waiting (given a connector, or a place
  on the waitlist); first contact (the person was reached); closed.
- Waits: received to assigned, assigned to first contact, in days, over the referrals that reached the
  later milestone: median and 90th percentile (linear interpolation, as the exports).
- Stalled: open (assigned, not ended) and no session for the case terms' `stalled_after_days`, counted
  from the assignment until the first session (intake's rule, `referral_intake.domain.case`).
- Could not contact: open, and the policy's limit of unanswered contact attempts was reached.
- Caseloads: each connector's open cases against capacity as triage last announced them (domain/caseloads.py);
  about connectors, not referrals, so neither the period nor the filters apply.
- Pipeline health: each service's outbox, dead letters and consumer lag from its instances' newest reports
  (domain/pipeline_health.py); current, so neither the period nor the filters apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from reporting.domain.caseloads import ConnectorLoad
from reporting.domain.export_report import Wait
from reporting.domain.pipeline_health import ServiceHealth
from reporting.domain.status import Decision
from reporting.domain.summary import UrgentCounts

# A period longer than this is refused: the arrivals view has a row for every day.
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 28
UNDECIDED = "undecided"
# The counts kept per day of receipt, route, area and referrer kind (migration 0008's dashboard_daily).
DAILY_COUNTS = (
    "referrals", "triaged", "assigned_or_waiting", "assigned", "waiting", "reached", "closed",
    "accepted", "declined", "redirected", "open", "open_unreachable", "notifications_sent", "notifications_failed",
)  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """None: not filtered on that. `area` is a postcode district (outward code), upper case."""

    area: str | None = None
    route: str | None = None
    referrer_kind: str | None = None

    def sql_args(self) -> tuple[str | None, str | None, str | None]:
        return (self.area, self.route, self.referrer_kind)


def period_error(start: date, end: date, *, max_days: int | None = None) -> str | None:
    """Why a period (both days inclusive) cannot be answered, said so that the reader can fix it; None if it can."""
    if end < start:
        return f"the period ends ({end}) before it starts ({start}): give from <= to"
    if end >= date.max:
        return f"the period must end before {date.max}"
    if max_days is not None and (end - start).days + 1 > max_days:
        return f"the period from {start} to {end} is longer than {max_days} days: choose a shorter one"
    return None


def default_period(today: date) -> tuple[date, date]:
    """The last four weeks, today included (from the first representable day, for a `today` near it)."""
    first = date.fromordinal(max(date.min.toordinal(), today.toordinal() - (DEFAULT_PERIOD_DAYS - 1)))
    return first, today


@dataclass(frozen=True)
class Funnel:
    received: int
    triaged: int
    assigned_or_waiting: int
    assigned: int
    waiting: int  # on the waitlist now
    first_contact: int
    closed: int


@dataclass(frozen=True)
class DayArrivals:
    day: date
    total: int
    by_route: dict[str, int]


@dataclass(frozen=True)
class AreaWaitlist:
    area: str | None  # None: the waitlist event named no area
    waiting: int
    oldest_waitlisted_at: datetime
    oldest_wait_days: float


@dataclass(frozen=True)
class CaseFlags:
    open: int
    stalled: int
    could_not_contact: int


@dataclass(frozen=True)
class ReferrerDeclines:
    ods_code: str | None  # None: self-referrals and referrers without an ODS code
    declined: int
    redirected: int
    declined_because: dict[str, int] = field(default_factory=dict)  # fired rule id -> referrals
    redirected_because: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Dashboard:
    generated_at: datetime
    start: date
    end: date
    filters: Filters
    funnel: Funnel
    routes: list[str]  # the routes that appear in `arrivals`, in order
    arrivals: list[DayArrivals]
    decisions: dict[str, int]  # every decision and "undecided"
    waits: dict[str, Wait]
    waitlist: list[AreaWaitlist]
    cases: CaseFlags
    referrers: list[ReferrerDeclines]
    urgent: UrgentCounts
    notifications_sent: int
    notifications_failed: int
    last_event_applied_at: datetime | None  # reporting's own freshness: None until it has applied any event
    # As triage last announced them: current, so neither the period nor the filters apply.
    caseloads: list[ConnectorLoad] = field(default_factory=list)
    pipeline_health: list[ServiceHealth] = field(default_factory=list)  # current, not filtered


def daily_totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The period's totals of each of DAILY_COUNTS, from its rows by day and route."""
    rows = list(rows)
    return {column: sum(row[column] for row in rows) for column in DAILY_COUNTS}


def funnel_of(totals: Mapping[str, int]) -> Funnel:
    return Funnel(
        received=totals["referrals"],
        **{name: totals[name] for name in ("triaged", "assigned_or_waiting", "assigned", "waiting")},
        first_contact=totals["reached"],
        closed=totals["closed"],
    )


def decisions_of(totals: Mapping[str, int]) -> dict[str, int]:
    """Every decision, zero included, and the referrals received and not yet decided."""
    counts = {decision.value: totals[decision.value] for decision in Decision}
    return {**counts, UNDECIDED: totals["referrals"] - totals["triaged"]}


def daily_arrivals(start: date, end: date, rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[DayArrivals]]:
    """Rows of (day, route, referrals) as one entry per day of the period, zero-filled, each with every route
    that had any."""
    counts: dict[date, dict[str, int]] = {}
    for row in rows:
        if row["referrals"]:
            counts.setdefault(row["day"], {})[row["route"]] = row["referrals"]
    routes = sorted({route for by_route in counts.values() for route in by_route})
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        by_route = {route: counts.get(day, {}).get(route, 0) for route in routes}
        days.append(DayArrivals(day, sum(by_route.values()), by_route))
    return routes, days


Rows = Iterable[Mapping[str, Any]]


def referrer_declines(totals: Rows, rules: Rows) -> list[ReferrerDeclines]:
    """Totals: (ods_code, declined, redirected); rules: (ods_code, decision, rule, n). Most declines first."""
    because: dict[tuple[str | None, str], dict[str, int]] = {}
    for row in rules:
        because.setdefault((row["ods_code"], row["decision"]), {})[row["rule"]] = row["n"]
    found = [
        ReferrerDeclines(
            ods_code=row["ods_code"],
            declined=row["declined"],
            redirected=row["redirected"],
            declined_because=dict(sorted(because.get((row["ods_code"], "declined"), {}).items())),
            redirected_because=dict(sorted(because.get((row["ods_code"], "redirected"), {}).items())),
        )
        for row in totals
    ]
    return sorted(found, key=lambda r: (-(r.declined + r.redirected), r.ods_code is None, r.ods_code or ""))
