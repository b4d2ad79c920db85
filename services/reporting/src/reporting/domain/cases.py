"""The case figures: where cases stand, why they closed, the sessions they used, and what changed for people.

A measure's change rests only on people with both a baseline and a closing answer for that measure
(`n`): anyone else would move the mean for reasons that are not change. The means are of those
same people at both stages, so the change is exactly closing minus baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from signpost_contracts.vocabulary import CLOSURE_REASONS

# ONS4 items, 0-10 each; for anxiety a fall is the improvement, for the others a rise.
ONS4_ITEMS: tuple[str, ...] = ("life_satisfaction", "worthwhile", "happiness", "anxiety")
# Measures with a number at each stage: UCLA-3's total (3-9, higher is lonelier) and the ONS4 items.
SCORED_MEASURES: tuple[str, ...] = ("ucla3_total", *ONS4_ITEMS)
_DECIMALS = 2


@dataclass(frozen=True)
class ScoreChange:
    n: int  # people with both a baseline and a closing answer for this measure
    baseline_mean: float | None  # None when n is 0
    closing_mean: float | None
    mean_change: float | None  # closing minus baseline


@dataclass(frozen=True)
class LonelinessChange:
    """The ONS direct question ("How often do you feel lonely?"), answered at baseline and closing."""

    n: int
    less_often: int
    same: int
    more_often: int


@dataclass(frozen=True)
class SessionsUsed:
    total: int  # over closed cases
    closed_cases: int
    mean_per_closed_case: float | None  # None while no case has closed


@dataclass(frozen=True)
class CaseSummary:
    open: int  # assigned a connector, not yet closed or withdrawn
    waiting: int
    closed: int
    withdrawn: int
    linked: int
    closure_reasons: dict[str, int]
    sessions: SessionsUsed
    scores: dict[str, ScoreChange]  # by SCORED_MEASURES
    ons_loneliness: LonelinessChange


def rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), _DECIMALS)


def score_change(n: int, baseline: float | None, closing: float | None) -> ScoreChange:
    if n == 0 or baseline is None or closing is None:
        return ScoreChange(n=n, baseline_mean=None, closing_mean=None, mean_change=None)
    return ScoreChange(n, rounded(baseline), rounded(closing), rounded(float(closing) - float(baseline)))


def sessions_used(total: int, closed_cases: int) -> SessionsUsed:
    mean = total / closed_cases if closed_cases else None
    return SessionsUsed(total=total, closed_cases=closed_cases, mean_per_closed_case=rounded(mean))


def zero_filled_reasons(counts: dict[str, int]) -> dict[str, int]:
    """Every closure reason appears, in the vocabulary's order, so a missing key is never mistaken for a zero."""
    return {reason: counts.get(reason, 0) for reason in CLOSURE_REASONS}
