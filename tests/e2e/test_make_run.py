"""`make run` / `make demo` (signpost-run): starts everything, prints how to use it, accepts a referral,
keeps demo traffic flowing, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from signpost_contracts.vocabulary import SERVICES
from signpost_devstack.net import port_is_free

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RUN = str(Path(sys.executable).with_name("signpost-run"))
DEMO_ROSTER = "services/triage/src/triage/demo/roster.toml"
EXTRA = "make-run-test-connector"
EXTRA_CONNECTOR = f'''
[[connectors]]
id = "{EXTRA}"
display_name = "Extra Connector"
areas = ["LS99"]
kind = "paid"
capacity = 3
'''


def _url(banner: str, service: str) -> str:
    found = re.search(rf"^  {service}\s+(http://127\.0\.0\.1:\d+)", banner, re.MULTILINE)
    assert found, f"the banner names no URL for {service}:\n{banner}"
    return found[1]


def test_a_policy_or_roster_file_that_is_not_there_stops_make_run_before_it_starts_anything(tmp_path):
    missing = tmp_path / "no-such-policy.toml"
    env = {**os.environ, "POLICY_FILE": str(missing)}
    done = subprocess.run([RUN, "--state-dir", str(tmp_path / "state")], env=env, capture_output=True, timeout=60)
    assert done.returncode != 0
    assert f"POLICY_FILE={missing} is not a file".encode() in done.stderr
    assert b"Starting infrastructure" not in done.stdout


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert process.poll() is None, f"signpost-run exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} after {timeout}s:\n{log.read_text()}"
        time.sleep(0.2)


def test_make_demo_serves_a_first_referral_keeps_demo_traffic_flowing_and_stops_cleanly_on_ctrl_c(
    infrastructure, tmp_path
):
    state, log = tmp_path / "state", tmp_path / "run.log"
    roster = tmp_path / "roster.toml"  # the demo roster and one connector more: ROSTER_FILE is the one used
    roster.write_text((REPO / DEMO_ROSTER).read_text() + EXTRA_CONNECTOR)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        "DATABASE_URL": infrastructure.postgres_url,
        "ROSTER_FILE": str(roster),
    }
    documented_and_free = [port for port in (8081, 8082, 8083, 8084) if port_is_free(port)]
    process = subprocess.Popen(
        [RUN, "--state-dir", str(state), "--demo", "--demo-rate", "5", "--demo-casework-interval", "0.5"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_line(log, "Press Ctrl-C to stop.", process)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) == 7, "the SMTP sink, fake Notify, fake BaRS and four services run as their own processes"
        banner = log.read_text()
        intake, reporting = _url(banner, "referral intake"), _url(banner, "reporting")
        for port in documented_and_free:  # a port another process held is replaced by a free one
            assert f"http://127.0.0.1:{port}" in banner
        assert f"policy, roster    triage's demo policy (set POLICY_FILE to change), {roster}" in banner
        token = (state / "dev-token").read_text().strip()

        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            created = client.post(
                f"{intake}/fhir/ServiceRequest",
                content=(REPO / "examples" / "gp-referral.json").read_bytes(),
                headers={"Content-Type": "application/fhir+json"},
            )
            assert created.status_code == 201, created.text
            referral_id = created.json()["id"]
            task = {}
            deadline = time.monotonic() + 60  # triage and assignment, on a machine busy with the demo traffic
            while not task.get("businessStatus") and time.monotonic() < deadline:
                focus = {"focus": f"ServiceRequest/{referral_id}"}
                bundle = client.get(f"{intake}/fhir/Task", params=focus).json()
                task = bundle["entry"][0]["resource"]
                time.sleep(0.1)
            assert task["status"] == "accepted", task
            assert task.get("businessStatus", {}).get("text") == "assigned", task

            for _ in range(150):  # the demo keeps referring synthetic patients; reporting counts them
                summary = client.get(f"{reporting}/api/summary").json()
                if summary["total_referrals"] >= 5 and summary["notifications"]["sent"] >= 5:
                    break
                time.sleep(0.1)
            assert summary["total_referrals"] >= 5, summary
            assert sum(summary["by_decision"].values()) >= 5, "demo referrals are triaged"

            [extra] = [
                c for c in client.get(f"{_url(banner, 'triage')}/roster").json()["connectors"] if c["id"] == EXTRA
            ]
            assert extra["capacity"] == 3
            for _ in range(300):  # the demo's connectors walk cases to closure through the case API
                closed = client.get(f"{intake}/cases", params={"status": "closed"}).json()["count"]
                if closed:
                    break
                time.sleep(0.2)
            assert closed, "demo casework closes cases"
            for _ in range(150):  # and the dashboard's figures show them opening and closing
                cases = client.get(f"{reporting}/api/summary").json()["cases"]
                if cases["closed"] and cases["open"] and cases["sessions"]["total"] >= 2:
                    break
                time.sleep(0.2)
            assert cases["closed"] >= 1, cases
            assert cases["open"] >= 1, cases
            assert cases["sessions"]["total"] >= 2, "sessions recorded through the case API are counted"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    assert code == 0, log.read_text()
    assert "Stopped." in log.read_text()
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    for service in SERVICES:
        lines = [json.loads(line) for line in (state / "logs" / f"{service}.log").read_text().splitlines()]
        assert f"{service} stopped" in [line["message"] for line in lines], "each service drains and says so"
