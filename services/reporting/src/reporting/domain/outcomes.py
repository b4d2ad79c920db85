"""Outcome figures for commissioners, from each closed case's baseline and closing measures.

Every figure rests on the people with both answers for that measure (`n`, always published beside it).
- mean change: closing minus baseline over those people (UCLA-3: a fall is better; ONS4 anxiety: a fall is
  better; the other ONS4 items: a rise is better).
- share improved: of those people, the share whose score moved the better way by at least one point.
- share no longer lonely (UCLA-3 only): of the people lonely at baseline (total >= the threshold), the
  share below the threshold at closing.

The threshold is a setting (UCLA3_LONELY_THRESHOLD, default 6 on the 3-9 scale). The scale's source
(Hughes, Waite, Hawkley and Cacioppo, 2004, Research on Aging 26(6)) publishes the items and their
scoring; 6 is a cut-off common in research that dichotomises the scale, and no published standard for
one could be checked from here, so set it to the one the commissioner's outcome framework uses.

Core20PLUS5 figures are the same, over people from areas in IMD
deciles 1-2 (the most deprived 20% of England's neighbourhoods).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# measure -> whether a fall is the improvement
MEASURES: dict[str, bool] = {
    "ucla3_total": True,
    "life_satisfaction": False,
    "worthwhile": False,
    "happiness": False,
    "anxiety": True,
}
CORE20_DECILES = frozenset({1, 2})
_DECIMALS = 3


@dataclass(frozen=True)
class MeasureOutcome:
    n: int  # people with a baseline and a closing answer
    baseline_mean: float | None
    closing_mean: float | None
    mean_change: float | None
    improved: int  # people whose score moved the better way


@dataclass(frozen=True)
class LonelinessOutcome:
    lonely_at_baseline: int
    no_longer_lonely: int
    threshold: int


@dataclass(frozen=True)
class Outcomes:
    measures: dict[str, MeasureOutcome]
    loneliness: LonelinessOutcome


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), _DECIMALS) if values else None


def measure_outcome(pairs: Iterable[tuple[int, int]], *, fall_is_better: bool) -> MeasureOutcome:
    pairs = list(pairs)
    baseline = [float(b) for b, _ in pairs]
    closing = [float(c) for _, c in pairs]
    improved = sum(1 for b, c in pairs if (c < b if fall_is_better else c > b))
    change = None if not pairs else round(sum(c - b for b, c in pairs) / len(pairs), _DECIMALS)
    return MeasureOutcome(len(pairs), _mean(baseline), _mean(closing), change, improved)


def _pairs(rows: list[Mapping[str, Any]], measure: str) -> list[tuple[int, int]]:
    """(baseline, closing) for the people who answered the measure both times."""
    return [
        (row[f"{measure}_baseline"], row[f"{measure}_closing"])
        for row in rows
        if row[f"{measure}_baseline"] is not None and row[f"{measure}_closing"] is not None
    ]


def outcomes(rows: Iterable[Mapping[str, Any]], *, lonely_threshold: int) -> Outcomes:
    """Rows: `<measure>_baseline` and `<measure>_closing` for each closed case (None where unanswered)."""
    rows = list(rows)
    pairs = {measure: _pairs(rows, measure) for measure in MEASURES}
    figures = {
        measure: measure_outcome(pairs[measure], fall_is_better=fall_is_better)
        for measure, fall_is_better in MEASURES.items()
    }
    lonely = [(b, c) for b, c in pairs["ucla3_total"] if b >= lonely_threshold]
    recovered = sum(1 for _, c in lonely if c < lonely_threshold)
    return Outcomes(figures, LonelinessOutcome(len(lonely), recovered, lonely_threshold))


def core20(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows for people from the most deprived 20% of areas (decile known and 1 or 2)."""
    return [row for row in rows if row["imd_decile"] in CORE20_DECILES]
