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


# measure -> {(baseline, closing): people}: each measure's answers, both given, counted by pair of values.
PairCounts = Mapping[str, Mapping[tuple[int, int], int]]


def measure_outcome(pairs: Mapping[tuple[int, int], int], *, fall_is_better: bool) -> MeasureOutcome:
    """From the people counted per (baseline, closing) pair; the means are exact, whatever the counts."""
    n = sum(pairs.values())
    if not n:
        return MeasureOutcome(0, None, None, None, 0)
    baseline = sum(b * people for (b, _), people in pairs.items())
    closing = sum(c * people for (_, c), people in pairs.items())
    improved = sum(people for (b, c), people in pairs.items() if (c < b if fall_is_better else c > b))
    return MeasureOutcome(
        n,
        round(baseline / n, _DECIMALS),
        round(closing / n, _DECIMALS),
        round((closing - baseline) / n, _DECIMALS),
        improved,
    )


def outcomes_of_counts(counts: PairCounts, *, lonely_threshold: int) -> Outcomes:
    figures = {
        measure: measure_outcome(counts.get(measure, {}), fall_is_better=fall_is_better)
        for measure, fall_is_better in MEASURES.items()
    }
    ucla = counts.get("ucla3_total", {})
    lonely = sum(people for (b, _), people in ucla.items() if b >= lonely_threshold)
    recovered = sum(people for (b, c), people in ucla.items() if b >= lonely_threshold and c < lonely_threshold)
    return Outcomes(figures, LonelinessOutcome(lonely, recovered, lonely_threshold))


def pair_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[tuple[int, int], int]]:
    """Rows: `<measure>_baseline` and `<measure>_closing` for each closed case (None where unanswered)."""
    counts: dict[str, dict[tuple[int, int], int]] = {measure: {} for measure in MEASURES}
    for row in rows:
        for measure, pairs in counts.items():
            b, c = row[f"{measure}_baseline"], row[f"{measure}_closing"]
            if b is not None and c is not None:
                pairs[(b, c)] = pairs.get((b, c), 0) + 1
    return counts


def outcomes(rows: Iterable[Mapping[str, Any]], *, lonely_threshold: int) -> Outcomes:
    """Rows: `<measure>_baseline` and `<measure>_closing` for each closed case (None where unanswered)."""
    return outcomes_of_counts(pair_counts(rows), lonely_threshold=lonely_threshold)
