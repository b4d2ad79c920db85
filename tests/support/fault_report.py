"""The fault suite's printed report: one line per fault injected, what went in and what came out.

A test of the suite records its figures with `fault_report.record(...)` once it has checked them; the
line is printed whatever the test's outcome, so a failing fault shows beside the passing ones with
the figures it reached (or none, if it failed before counting). `make faults` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class FaultFigures:
    fault: str
    referrals_in: int
    notified_exactly_once: int
    counted_by_reporting: int
    over_capacity: int


FIGURES = pytest.StashKey[dict[str, FaultFigures]]()
OUTCOMES = pytest.StashKey[dict[str, tuple[str, str]]]()  # nodeid -> (fault named by the test, outcome)

COLUMNS = ("fault", "result", "referrals in", "notified exactly once", "counted", "over capacity")


class FaultReport:
    def __init__(self, config: pytest.Config, nodeid: str) -> None:
        self._config = config
        self._nodeid = nodeid

    def record(self, figures: FaultFigures) -> None:
        self._config.stash.setdefault(FIGURES, {})[self._nodeid] = figures


def report_lines(config: pytest.Config) -> list[str]:
    figures = config.stash.get(FIGURES, {})
    rows = [COLUMNS]
    for nodeid, (fault, outcome) in config.stash.get(OUTCOMES, {}).items():
        seen = figures.get(nodeid)
        numbers = (
            (str(seen.referrals_in), str(seen.notified_exactly_once), str(seen.counted_by_reporting))
            if seen
            else ("-", "-", "-")
        )
        rows.append((seen.fault if seen else fault, outcome, *numbers, str(seen.over_capacity) if seen else "-"))
    if len(rows) == 1:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
