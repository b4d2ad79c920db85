"""The alerting rules in deploy/k8s/base/alerts/: valid for Prometheus, unit-tested, over real metrics.

promtool (Debian's prometheus package, installed by `make tools`, which `make test` runs) checks the
rule file and runs its unit tests (signpost-rules.test.yaml). The PrometheusRule the base deploys must
carry exactly the groups promtool tested. Every expression names only metrics the services register,
and only their labels.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.manifests import BASE, DEPLOY, Manifests, load_yaml_documents
from deploy.promql import TARGET_LABELS, declared_labels, family, uses_of

pytestmark = pytest.mark.unit

ALERTS = BASE / "alerts"
RULES = ALERTS / "signpost-rules.yaml"
RULE_TESTS = ALERTS / "signpost-rules.test.yaml"
# Series Prometheus writes itself for every target, beside what the services export.
SCRAPE_SERIES = {"up": set()}
# What issue 11 asks to be alerted on, by the metric that shows it.
MUST_ALERT_ON = {
    "a target down": "up",
    "dead letters growing": "signpost_dead_letters_total",
    "consumer lag": "signpost_consumer_lag",
    "outbox backlog": "signpost_outbox_backlog",
    "parked outbox rows": "signpost_outbox_parked",
    "notification failures": "signpost_notification_attempts_total",
    "urgent redirects unconfirmed": "signpost_notification_urgent_unconfirmed",
    "handler failures": "signpost_messages_failed_total",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not installed: run `make tools` (it installs Debian's prometheus package, which "
            "`make test` does first). The alerting rules cannot be checked without it."
        )
    return found


def _run(promtool: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *arguments], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def _rules(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"]]


@pytest.fixture(scope="module")
def groups() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"])


def test_promtool_accepts_the_rule_file(promtool: str):
    result = _run(promtool, "check", "rules", RULES.name, cwd=ALERTS)
    assert result.returncode == 0, f"promtool check rules:\n{result.stdout}{result.stderr}"


def test_every_alert_fires_when_it_should_and_not_before_in_promtools_unit_tests(promtool: str):
    result = _run(promtool, "test", "rules", RULE_TESTS.name, cwd=ALERTS)
    assert result.returncode == 0, f"promtool test rules:\n{result.stdout}{result.stderr}"


def test_every_alert_has_a_unit_test(groups: list[dict[str, Any]]):
    cases = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    tested = {check["alertname"] for case in cases for check in case.get("alert_rule_test", [])}
    fires = {check["alertname"] for case in cases for check in case.get("alert_rule_test", []) if check["exp_alerts"]}
    alerts = {rule["alert"] for rule in _rules(groups)}
    assert alerts - tested == set(), "alerts no promtool test evaluates"
    assert alerts - fires == set(), "alerts no promtool test expects to fire"


def test_the_unit_tests_catch_a_dead_letter_alert_that_misses_a_replicas_first_dead_letter(
    promtool: str, groups: list[dict[str, Any]], tmp_path: Path
):
    # The labelled counter's series is born at 1: plain increase() sees no rise. The unit tests must
    # tell the difference, or they would pass the alert that stays silent.
    groups = copy.deepcopy(groups)
    for rule in _rules(groups):
        if rule["alert"] == "SignpostDeadLettersGrowing":
            rule["expr"] = "sum by (job, consumer) (increase(signpost_dead_letters_total[15m])) > 0"
    (tmp_path / RULES.name).write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = _run(promtool, "test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "alertname: SignpostDeadLettersGrowing, time: 7m" in result.stdout + result.stderr


def test_the_prometheus_rule_deployed_carries_exactly_the_groups_promtool_tested(
    base: Manifests, groups: list[dict[str, Any]]
):
    (deployed,) = base.of_kind("PrometheusRule")
    assert deployed["apiVersion"] == "monitoring.coreos.com/v1"
    assert deployed["spec"]["groups"] == groups, (
        "alerts/prometheus-rule.yaml's spec.groups differs from alerts/signpost-rules.yaml: copy the groups "
        "of signpost-rules.yaml under spec (indented two spaces)"
    )


def test_every_alert_names_only_registered_metrics_and_their_labels(groups: list[dict[str, Any]]):
    declared = declared_labels() | SCRAPE_SERIES
    for rule in _rules(groups):
        uses = uses_of(rule["expr"])
        names = {family(name, set(declared)) for name in uses.metrics}
        assert names <= set(declared), f"{rule['alert']} names metrics no service exports: {names - set(declared)}"
        for metric, labels in uses.matchers:
            allowed = declared[family(metric, set(declared))] | TARGET_LABELS
            assert labels <= allowed, f"{rule['alert']} matches {metric} on labels it lacks: {labels - allowed}"
        for labels, metrics in uses.groupings:
            for metric in metrics:
                allowed = declared[family(metric, set(declared))] | TARGET_LABELS
                assert set(labels) <= allowed, f"{rule['alert']} groups {metric} by {set(labels) - allowed}"


def test_the_target_down_alert_watches_every_service_by_the_job_the_service_monitor_gives_it(
    base: Manifests, groups: list[dict[str, Any]]
):
    (rule,) = [rule for rule in _rules(groups) if rule["alert"] == "SignpostTargetDown"]
    (matched,) = re.findall(r'job=~"([^"]+)"', rule["expr"])
    # The Prometheus Operator names a ServiceMonitor's job after the Service (no jobLabel is set).
    (monitor,) = base.of_kind("ServiceMonitor")
    assert "jobLabel" not in monitor["spec"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = {
        s["metadata"]["name"]
        for s in base.of_kind("Service")
        if all(s["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
    }
    assert set(matched.split("|")) == services


@pytest.mark.parametrize(("condition", "metric"), MUST_ALERT_ON.items())
def test_an_alert_watches_each_condition_the_platform_team_must_hear_about(
    groups: list[dict[str, Any]], condition: str, metric: str
):
    watching = [rule["alert"] for rule in _rules(groups) if metric in uses_of(rule["expr"]).metrics]
    assert watching, f"no alert for {condition} ({metric})"


def test_every_alert_says_how_bad_it_is_and_points_to_its_runbook_section(groups: list[dict[str, Any]]):
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    # GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    }
    for rule in _rules(groups):
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("deploy/README.md#"), rule["alert"]
        assert runbook.split("#", 1)[1] in anchors, f"{rule['alert']}: deploy/README.md has no section {runbook}"


def test_the_rule_files_are_valid_yaml_documents_promtool_and_the_operator_can_read():
    for path in (RULES, RULE_TESTS, ALERTS / "prometheus-rule.yaml"):
        (document,) = load_yaml_documents(path)
        assert isinstance(document, dict), path.name
