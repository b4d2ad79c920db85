"""The Grafana dashboard shipped in deploy/ against the metrics the code actually exports.

Each panel's PromQL is parsed (promql-parser, the Rust parser Prometheus-compatible databases use), so a
typo fails here rather than as an empty panel in production; every metric it names is one the services
register, every label it groups by is one that metric carries (or one Prometheus adds to every target),
and every metric the services register is on the dashboard somewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest
import yaml

from deploy.manifests import BASE, Manifests
from deploy.promql import TARGET_LABELS, Uses, declared_labels, family, walk

pytestmark = pytest.mark.unit

DASHBOARD = BASE / "grafana" / "signpost-services.json"
# Grafana's variables, as Grafana would substitute them, so the expression parses as PromQL.
VARIABLES = {"$__rate_interval": "5m", "$namespace": "signpost", "$job": ".*"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def _expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in _panels(dashboard):
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def _parse(expression: str) -> Any:
    for variable, value in VARIABLES.items():
        expression = expression.replace(variable, value)
    return promql_parser.parse(expression)


def test_every_expression_parses_and_names_only_registered_metrics_and_their_labels(dashboard):
    declared = declared_labels()
    assert declared, "no Signpost metric registered: deploy.promql's imports should have registered them"
    for title, expression in _expressions(dashboard):
        uses = Uses()
        names = {family(name, set(declared)) for name in walk(_parse(expression), uses)}
        unknown = names - set(declared)
        assert not unknown, f"{title}: {expression} names metrics no service registers: {unknown}"
        for labels, metrics in uses.groupings:
            for metric in metrics:
                name = family(metric, set(declared))
                allowed = declared[name] | TARGET_LABELS | ({"le"} if metric.endswith("_bucket") else set())
                assert set(labels) <= allowed, f"{title}: groups {name} by {set(labels) - allowed}, not its labels"


def test_every_registered_metric_is_on_the_dashboard(dashboard):
    shown: set[str] = set()
    declared = set(declared_labels())
    for _, expression in _expressions(dashboard):
        shown |= {family(name, declared) for name in walk(_parse(expression), Uses())}
    assert declared - shown == set(), "metrics the services export but no panel shows"


def test_every_panel_uses_the_chosen_data_source_and_filters_by_namespace_and_service(dashboard):
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "namespace", "job"} <= variables
    for panel in _panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["description"], f"{panel['title']} says what it shows"
        for target in panel["targets"]:
            assert 'namespace="$namespace"' in target["expr"], panel["title"]
            assert 'job=~"$job"' in target["expr"], panel["title"]


def test_panels_have_unique_ids_and_do_not_overlap(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_the_base_ships_the_dashboard_to_grafanas_sidecar(base: Manifests):
    assert base.config_map_files["signpost-grafana-dashboard"] == ["grafana/signpost-services.json"]
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    [generator] = [g for g in kustomization["configMapGenerator"] if g["name"] == "signpost-grafana-dashboard"]
    assert generator["options"]["labels"] == {"grafana_dashboard": "1"}, "the label Grafana's sidecar looks for"
