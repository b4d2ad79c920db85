"""Starting the triage process: a bad policy file stops it at once with a message naming the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TRIAGE_BIN = Path(sys.executable).with_name("signpost-triage")


def test_the_triage_process_refuses_to_start_on_a_bad_policy_file(policy_file, write_roster, make_connector):
    policy_file.write_text(policy_file.read_text().replace('when_unknown = "accept"', 'when_unknown = "maybe"'))
    env = {**os.environ, "POLICY_FILE": str(policy_file), "ROSTER_FILE": str(write_roster([make_connector("a")]))}

    finished = subprocess.run([str(TRIAGE_BIN)], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert finished.returncode == 1
    assert finished.stderr.strip() == (
        f"triage cannot start: policy file {policy_file}: field 'age.when_unknown':"
        " input should be 'accept' or 'decline' (got 'maybe')"
    )
