"""A commissioner export as a list of figures, suppressed, then written as JSON or CSV from that one list.

Each figure is (table, category, measure, value). Counts of one breakdown are suppressed together, with
their total published, so secondary suppression stops a hidden cell being worked out by subtraction;
rates and means are suppressed when a count they rest on is small (reporting.domain.suppression).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reporting.domain.outcomes import Outcomes
from reporting.domain.suppression import (
    Cell,
    Rate,
    csv_value,
    json_value,
    suppress_count,
    suppress_counts,
    suppress_rate,
    suppressed_mean,
)

CSV_COLUMNS = ("table", "category", "measure", "value")


@dataclass(frozen=True)
class Figure:
    table: str
    category: str
    measure: str
    value: Cell | Rate


@dataclass(frozen=True)
class Wait:
    n: int
    median_days: float | None
    p90_days: float | None


def days(value: float | None) -> float | None:
    """A number of days as published: two decimals (a wait from SQL, an age)."""
    return None if value is None else round(float(value), 2)


def breakdown(table: str, counts: Mapping[str, int], *, minimum: int) -> list[Figure]:
    cells = suppress_counts(counts, minimum=minimum)
    return [Figure(table, category, "count", cell) for category, cell in sorted(cells.items())]


def waits(figures: Mapping[str, Wait], *, minimum: int) -> list[Figure]:
    rows = []
    for name, wait in figures.items():
        rows.append(Figure("waits", name, "people", suppress_count(wait.n, minimum=minimum)))
        rows.append(Figure("waits", name, "median_days", suppressed_mean(wait.n, wait.median_days, minimum=minimum)))
        rows.append(Figure("waits", name, "p90_days", suppressed_mean(wait.n, wait.p90_days, minimum=minimum)))
    return rows


def sessions(closed_cases: int, total: int, *, minimum: int) -> list[Figure]:
    mean = round(total / closed_cases, 3) if closed_cases else None
    return [
        Figure("sessions", "closed_cases", "count", suppress_count(closed_cases, minimum=minimum)),
        Figure("sessions", "closed_cases", "mean_sessions", suppressed_mean(closed_cases, mean, minimum=minimum)),
    ]


def outcome_figures(table: str, figures: Outcomes, *, minimum: int) -> list[Figure]:
    rows = []
    for measure, outcome in figures.measures.items():
        people = suppress_count(outcome.n, minimum=minimum)
        rows += [
            Figure(table, measure, "people", people),
            Figure(table, measure, "baseline_mean", suppressed_mean(outcome.n, outcome.baseline_mean, minimum=minimum)),
            Figure(table, measure, "closing_mean", suppressed_mean(outcome.n, outcome.closing_mean, minimum=minimum)),
            Figure(table, measure, "mean_change", suppressed_mean(outcome.n, outcome.mean_change, minimum=minimum)),
            Figure(table, measure, "share_improved", _share(outcome.improved, outcome.n, minimum)),
        ]
    lonely = figures.loneliness
    category = f"ucla3_total_at_or_above_{lonely.threshold}"
    rows += [
        Figure(
            table, category, "people_lonely_at_baseline", suppress_count(lonely.lonely_at_baseline, minimum=minimum)
        ),
        Figure(
            table,
            category,
            "share_no_longer_lonely",
            _share(lonely.no_longer_lonely, lonely.lonely_at_baseline, minimum),
        ),
    ]
    return rows


def _share(numerator: int, denominator: int, minimum: int) -> Rate:
    # The raw counts go in: suppress_rate hides a share that would reveal a small count or its complement.
    return suppress_rate(Cell(numerator, False), Cell(denominator, False), minimum=minimum)


def reach(
    referrals_known: int, referrals_core20: int, people_known: int, people_core20: int, *, minimum: int
) -> list[Figure]:
    """Core20PLUS5: the share of referrals, and of people with outcomes, from IMD deciles 1-2 (of those whose
    decile is known: a postcode outside England or not in the lookup has none)."""
    return [
        Figure("core20plus5", "referrals", "with_known_decile", suppress_count(referrals_known, minimum=minimum)),
        Figure("core20plus5", "referrals", "share_deciles_1_2", _share(referrals_core20, referrals_known, minimum)),
        Figure("core20plus5", "outcomes", "with_known_decile", suppress_count(people_known, minimum=minimum)),
        Figure("core20plus5", "outcomes", "share_deciles_1_2", _share(people_core20, people_known, minimum)),
    ]


def as_json(figures: list[Figure]) -> dict[str, Any]:
    """{table: {category: {measure: value}}}, a suppressed value null, with the suppressed ones listed."""
    tables: dict[str, Any] = {}
    hidden = []
    for figure in figures:
        tables.setdefault(figure.table, {}).setdefault(figure.category, {})[figure.measure] = json_value(figure.value)
        if figure.value.suppressed:
            hidden.append(f"{figure.table}/{figure.category}/{figure.measure}")
    return {"tables": tables, "suppressed": hidden}


def as_csv(figures: list[Figure]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    writer.writerows((f.table, f.category, f.measure, csv_value(f.value)) for f in figures)
    return out.getvalue()
