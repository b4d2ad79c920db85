"""A reader trying to recover hidden cells from a published breakdown or table and its totals.

`published` values are the numbers shown, None where a cell is hidden; totals are the true sums,
since the worst case is a reader who knows every margin. Cells are addressed (row, column).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

Grid = Sequence[Sequence[int | None]]


def attack_one_way(published: Mapping[str, int | None], total: int) -> dict[str, int]:
    """Total minus the published cells gives a single hidden cell away (and all of them when it is 0)."""
    hidden = [key for key, value in published.items() if value is None]
    rest = total - sum(value for value in published.values() if value is not None)
    if len(hidden) == 1 or (hidden and rest == 0):
        return {key: rest if len(hidden) == 1 else 0 for key in hidden}
    return {}


def attack_lines(published: Grid, row_totals: Sequence[int], col_totals: Sequence[int]) -> dict[tuple[int, int], int]:
    """Solve any row or column with one unknown, feed the answer back, until nothing moves."""
    known: dict[tuple[int, int], int] = {}
    cells = {(r, c): v for r, row in enumerate(published) for c, v in enumerate(row)}
    lines = [([(r, c) for c in range(len(col_totals))], t) for r, t in enumerate(row_totals)]
    lines += [([(r, c) for r in range(len(row_totals))], t) for c, t in enumerate(col_totals)]
    progress = True
    while progress:
        progress = False
        for line, line_total in lines:
            unknown = [cell for cell in line if cells[cell] is None and cell not in known]
            if len(unknown) == 1:
                seen = sum(known.get(cell, cells[cell] or 0) for cell in line if cell != unknown[0])
                known[unknown[0]] = line_total - seen
                progress = True
    return known


def _assignments(columns: list[int], budget: tuple[int, ...], need: int) -> Iterator[tuple[int, ...]]:
    """Values for a row's hidden columns, each within its column's remaining budget, summing to need."""
    if not columns:
        if need == 0:
            yield ()
        return
    first, rest = columns[0], columns[1:]
    for value in range(min(budget[first], need) + 1):
        for tail in _assignments(rest, budget, need - value):
            yield (value, *tail)


def consistent_values(
    published: Grid, row_totals: Sequence[int], col_totals: Sequence[int]
) -> dict[tuple[int, int], set[int]]:
    """Every value each hidden cell takes in some non-negative integer filling that matches all margins.

    Exhaustive over the fillings, row by row, keeping the columns' remaining totals as the state
    (forward: states reachable; backward: states from which the last row can still close).
    """
    n_rows, n_cols = len(row_totals), len(col_totals)
    hidden_cols = [[c for c in range(n_cols) if published[r][c] is None] for r in range(n_rows)]
    needs = [row_totals[r] - sum(v for v in published[r] if v is not None) for r in range(n_rows)]
    start = tuple(col_totals[c] - sum(published[r][c] or 0 for r in range(n_rows)) for c in range(n_cols))

    def step(state: tuple[int, ...], r: int) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
        for values in _assignments(hidden_cols[r], state, needs[r]):
            after = list(state)
            for c, v in zip(hidden_cols[r], values, strict=True):
                after[c] -= v
            yield values, tuple(after)

    forward = [{start}]
    for r in range(n_rows):
        forward.append({after for state in forward[r] for _, after in step(state, r)})
    alive = {tuple(0 for _ in range(n_cols))} & forward[n_rows]
    found: dict[tuple[int, int], set[int]] = {(r, c): set() for r in range(n_rows) for c in hidden_cols[r]}
    for r in reversed(range(n_rows)):
        previous: set[tuple[int, ...]] = set()
        for state in forward[r]:
            for values, after in step(state, r):
                if after in alive:
                    previous.add(state)
                    for c, v in zip(hidden_cols[r], values, strict=True):
                        found[(r, c)].add(v)
        alive = previous
    return found
