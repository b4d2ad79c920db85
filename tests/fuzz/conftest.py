"""The `fuzz` marker: the larger fuzzing runs, for CI, run only when asked for with `-m fuzz`.

Deselected otherwise, whatever else `-m` selects (`-m integration` or `-m slow` does not start a
run of an hour); the default-sized runs beside them carry no `fuzz` mark and run in every `make test`.
"""

from __future__ import annotations

import pytest

from fuzz.summary import SUMMARIES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    larger = [item for item in items if item.get_closest_marker("fuzz")]
    if larger:
        items[:] = [item for item in items if not item.get_closest_marker("fuzz")]
        config.hook.pytest_deselected(items=larger)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    summaries = config.stash.get(SUMMARIES, [])
    if summaries:
        terminalreporter.section("fuzzing")
        for line in summaries:
            terminalreporter.write_line(line)
