"""The `fuzz` marker: the larger fuzzing runs, for CI, run only when asked for with `-m fuzz`
(deselected otherwise: tests/conftest.py); the default-sized runs beside them carry no `fuzz` mark
and run in every `make test`. The fuzzing summary is printed here.
"""

from __future__ import annotations

import pytest

from fuzz.summary import SUMMARIES


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    summaries = config.stash.get(SUMMARIES, [])
    if summaries:
        terminalreporter.section("fuzzing")
        for line in summaries:
            terminalreporter.write_line(line)
