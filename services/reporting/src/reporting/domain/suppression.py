"""Small-number suppression for commissioner exports: no published figure may reveal a count of 1-4 people.

Rules (NHS/ONS practice; the threshold is `minimum`, so `minimum=5` hides 1..4):

- Primary: a count with 0 < n < minimum is hidden. A true zero discloses nothing about any one
  person, so it is published as 0 unless `hide_zero=True`.
- Small total: a breakdown whose total is itself small hides every cell (zeros too, or the last
  non-zero cell would follow from the total) and the total (`suppress_total`).
- Secondary: a total is published (or known elsewhere), so a line with exactly one hidden cell
  gives it away as total - published. The smallest unhidden non-zero cell of that line is hidden
  as well (ties by key order). With `hide_zero`, hidden cells that are all zero would be pinned by
  a hidden sum of 0, so the same rule applies. Two-way tables repeat this over rows and columns
  to a fixed point, and then also break "bridges": a hidden cell that lies on no cycle of hidden
  cells is still fixed by the margins, so one more cell is hidden to close a cycle through it.
- Two hidden cells with a small known sum both stay hidden: the reader learns that both are small,
  not either value. That is accepted practice and is accepted here.
- Rates and means: hidden when an input is hidden, when the denominator (or the number of people
  behind a mean) is small, or when the numerator or its complement (denominator - numerator) is
  small, since a published denominator turns the rate back into that count. A zero denominator
  is no rate: value None, not suppressed.

Known limits: only the one breakdown or table in hand is checked. The same people published in
other tables (by age in one, by area in another, or across periods that can be differenced) may
let a reader recover a hidden cell; publishers should avoid overlapping tables or round instead.
Tables assume their row and column totals are published: a small total is itself a small count
(its line is hidden whole, but the caller must not publish that total; merge categories instead).
With `hide_zero` a table's hidden zeros can, through non-negativity, still pin a neighbouring small
cell for an exhaustive reader (the line-by-line rules above hold); prefer publishing zeros in tables.
The rate complement rule assumes the numerator is a subset of the denominator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "SUPPRESSED",
    "Cell",
    "Rate",
    "csv_value",
    "json_value",
    "suppress_counts",
    "suppress_rate",
    "suppress_table",
    "suppress_total",
    "suppressed_mean",
]

SUPPRESSED = None
CSV_SUPPRESSED = "*"


@dataclass(frozen=True)
class Cell:
    """A published count: `value` is None exactly when the count is suppressed."""

    value: int | None
    suppressed: bool


@dataclass(frozen=True)
class Rate:
    """A published rate or mean: suppressed means hidden; None without suppression means no rate (zero denominator)."""

    value: float | None
    suppressed: bool


def _is_small(n: int, minimum: int, hide_zero: bool) -> bool:
    return 0 < n < minimum or (hide_zero and n == 0)


def _check(n: int) -> int:
    if n < 0:
        raise ValueError(f"counts are never negative: {n}")
    return n


def _line_needs_more(values: list[int], hidden: list[bool], hide_zero: bool) -> bool:
    hidden_values = [v for v, h in zip(values, hidden, strict=True) if h]
    return len(hidden_values) == 1 or (hide_zero and bool(hidden_values) and sum(hidden_values) == 0)


def _pick(candidates: Iterable[tuple[int, int, object]]) -> object | None:
    """The cell to hide next: smallest non-zero value, else smallest at all; ties by position."""
    ordered = sorted(candidates, key=lambda c: (c[0] == 0, c[0], c[1]))
    return ordered[0][2] if ordered else None


def suppress_counts(
    counts: Mapping[str, int], *, minimum: int = 5, total: bool = True, hide_zero: bool = False
) -> dict[str, Cell]:
    """A one-way breakdown; `total=True` when its sum is published or known elsewhere."""
    keys = list(counts)
    values = [_check(counts[k]) for k in keys]
    overall = sum(values)
    if total and 0 < overall < minimum:
        return {k: Cell(SUPPRESSED, True) for k in keys}
    hidden = [_is_small(v, minimum, hide_zero) for v in values]
    if total and _line_needs_more(values, hidden, hide_zero):
        index = _pick((v, i, i) for i, v in enumerate(values) if not hidden[i])
        if isinstance(index, int):
            hidden[index] = True
    return {k: Cell(SUPPRESSED, True) if h else Cell(v, False) for k, v, h in zip(keys, values, hidden, strict=True)}


def suppress_count(n: int, *, minimum: int = 5) -> Cell:
    """A count published on its own, with nothing it could be subtracted from: hidden when 0 < n < minimum."""
    n = _check(n)
    return Cell(SUPPRESSED, True) if 0 < n < minimum else Cell(n, False)


def suppress_total(counts: Mapping[str, int], *, minimum: int = 5) -> Cell:
    """The total of a breakdown: hidden when 0 < total < minimum (suppress_counts then hides every cell)."""
    return suppress_count(sum(_check(v) for v in counts.values()), minimum=minimum)


def _bridges(hidden: set[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """Hidden cells on no cycle of hidden cells (rows and columns as nodes), in order."""
    for edge in sorted(hidden):
        rest = hidden - {edge}
        reached, frontier = {("r", edge[0])}, [("r", edge[0])]
        while frontier:
            kind, index = frontier.pop()
            for r, c in rest:
                if (kind == "r" and r == index) or (kind == "c" and c == index):
                    node = ("c", c) if kind == "r" else ("r", r)
                    if node not in reached:
                        reached.add(node)
                        frontier.append(node)
        if ("c", edge[1]) not in reached:
            yield edge


Index = tuple[int, int]


def _close_cycle(grid: list[list[int]], hidden: set[Index], bridge: Index) -> Index | None:
    """The smallest unhidden cell joining the two sides a bridge separates, which puts it on a cycle."""
    rest = hidden - {bridge}
    side = {("r", bridge[0])}
    grown = True
    while grown:
        grown = False
        for r, c in rest:
            if (("r", r) in side) != (("c", c) in side):
                side |= {("r", r), ("c", c)}
                grown = True
    candidates = [
        (grid[r][c], r * len(grid[0]) + c, (r, c))
        for r in range(len(grid))
        for c in range(len(grid[0]))
        if (r, c) not in hidden and (("r", r) in side) != (("c", c) in side)
    ]
    chosen = _pick(candidates)
    return chosen if isinstance(chosen, tuple) else None


def suppress_table(
    rows: Mapping[str, Mapping[str, int]], *, minimum: int = 5, hide_zero: bool = False
) -> dict[str, dict[str, Cell]]:
    """A two-way table published with its row and column totals (rows may omit a column: 0).

    A row or column whose own total is small is hidden whole; margins are the caller's to publish
    (a small margin is itself a small count: hide it, see suppress_total, or merge categories).
    """
    row_keys = list(rows)
    col_keys = list(dict.fromkeys(c for row in rows.values() for c in row))
    if row_keys and (len(row_keys) < 2 or len(col_keys) < 2):
        raise ValueError("a table needs two rows and two columns (margins repeat a single line): use suppress_counts")
    grid = [[_check(rows[r].get(c, 0)) for c in col_keys] for r in row_keys]
    n_cols = len(col_keys)
    lines = [[(r, c) for c in range(n_cols)] for r in range(len(row_keys))]
    lines += [[(r, c) for r in range(len(row_keys))] for c in range(n_cols)]
    hidden = {(r, c) for r, row in enumerate(grid) for c, v in enumerate(row) if _is_small(v, minimum, hide_zero)}
    for line in lines:
        if 0 < sum(grid[r][c] for r, c in line) < minimum:
            hidden.update(line)
    while True:
        for line in lines:
            values = [grid[r][c] for r, c in line]
            if _line_needs_more(values, [spot in hidden for spot in line], hide_zero):
                chosen = _pick((grid[r][c], r * n_cols + c, (r, c)) for r, c in line if (r, c) not in hidden)
                if isinstance(chosen, tuple):
                    hidden.add(chosen)
                    break
        else:
            extra = next(filter(None, (_close_cycle(grid, hidden, b) for b in _bridges(hidden))), None)
            if extra is None:
                break
            hidden.add(extra)

    def cell(r: int, c: int) -> Cell:
        return Cell(SUPPRESSED, True) if (r, c) in hidden else Cell(grid[r][c], False)

    return {rk: {ck: cell(r, c) for c, ck in enumerate(col_keys)} for r, rk in enumerate(row_keys)}


def suppress_rate(numerator: Cell, denominator: Cell, *, minimum: int = 5, decimals: int = 3) -> Rate:
    """numerator / denominator, or hidden when it would reveal a small count (see the module rules)."""
    if numerator.suppressed or denominator.suppressed or numerator.value is None or denominator.value is None:
        return Rate(SUPPRESSED, True)
    num, den = numerator.value, denominator.value
    if den == 0:
        return Rate(None, False)
    if den < minimum or 0 < num < minimum or 0 < den - num < minimum:
        return Rate(SUPPRESSED, True)
    return Rate(round(num / den, decimals), False)


def suppressed_mean(values_count: int, mean: float | None, *, minimum: int = 5, decimals: int = 3) -> Rate:
    """A mean over `values_count` people: hidden when 0 < values_count < minimum; no people, no mean."""
    if values_count == 0 or mean is None:
        return Rate(None, False)
    if values_count < minimum:
        return Rate(SUPPRESSED, True)
    return Rate(round(mean, decimals), False)


def csv_value(cell: Cell | Rate) -> str:
    """ "*" for a hidden figure, "" for no figure, else the number."""
    if cell.suppressed:
        return CSV_SUPPRESSED
    return "" if cell.value is None else str(cell.value)


def json_value(cell: Cell | Rate) -> int | float | None:
    """None for a hidden figure (callers also list the hidden keys), else the number."""
    return None if cell.suppressed else cell.value
