"""`make bench`'s reporting part works end to end when run small: it fills, serves, times and prints every view.

This checks the bench, not the timing: 2,000 referrals and five requests per view say nothing about a
million, so the PASS/FAIL verdicts are not asserted, only that each view has real figures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from signpost_devstack.bench_reporting.views import views

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROW = re.compile(r"^(?P<view>.+?)\s+(?P<n>\d+)\s+(?P<p50>\d+\.\d)\s+(?P<p95>\d+\.\d)\s+(?P<p99>\d+\.\d)\s+(PASS|FAIL)")


def test_the_reporting_bench_fills_a_small_projection_and_prints_figures_for_every_view() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "signpost_devstack.bench_reporting", "--referrals", "2000", "--requests", "5"],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "filled 2,000/2,000 referrals" in run.stderr
    rows = {}
    for line in run.stdout.splitlines():
        match = ROW.match(line)
        if match:
            rows[match["view"].strip()] = match
    expected = [view.name for view in views(datetime.now(UTC).date())]
    assert {"summary", "dashboard", "referrals year csv", "outcomes month json", "feedback year"} <= set(expected)
    assert sorted(rows) == sorted(expected), run.stdout
    for name, row in rows.items():
        assert int(row["n"]) == 5, name
        assert 0 < float(row["p50"]) <= float(row["p95"]) <= float(row["p99"]), name
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["referrals"] == 2000
    assert figures["rows"]["referral_facts"] == 2000
    assert figures["rows"]["case_measures"] > 0
    assert figures["rows"]["notification_facts"] > 0
    assert set(figures["views"]) == set(expected)
