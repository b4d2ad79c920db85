"""Fuzzing runs report what they did (cases, statuses, duration) in pytest's terminal summary."""

from __future__ import annotations

import pytest

SUMMARIES = pytest.StashKey[list[str]]()


def record_summary(request: pytest.FixtureRequest, line: str) -> None:
    request.config.stash.setdefault(SUMMARIES, []).append(f"{request.node.name}: {line}")
