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
from prometheus_client import REGISTRY

import notifications.metrics  # noqa: F401  (registers the notification metrics)
import signpost_runtime.metrics  # noqa: F401  (registers every service's metrics)
from deploy.manifests import BASE, Manifests

pytestmark = pytest.mark.unit

DASHBOARD = BASE / "grafana" / "signpost-services.json"
# Labels the Prometheus Operator puts on every scraped target, and the histogram's bucket label.
TARGET_LABELS = {"job", "namespace", "pod", "instance", "service", "container", "endpoint"}
# Grafana's variables, as Grafana would substitute them, so the expression parses as PromQL.
VARIABLES = {"$__rate_interval": "5m", "$namespace": "signpost", "$job": ".*"}
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def _declared_labels() -> dict[str, set[str]]:
    """Label names from each metric's declaration (a labelled metric has no samples until it is used)."""
    declared: dict[str, set[str]] = {}
    for collector in list(REGISTRY._collector_to_names):  # the client has no public listing of collectors
        name = getattr(collector, "_name", "")
        if name.startswith("signpost_"):
            declared[name] = set(getattr(collector, "_labelnames", ()))
    return declared


def _family(sample_name: str, families: set[str]) -> str:
    for suffix in SAMPLE_SUFFIXES:
        if sample_name.endswith(suffix) and sample_name.removesuffix(suffix) in families:
            return sample_name.removesuffix(suffix)
    return sample_name


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


def _walk(node: Any, groupings: list[tuple[list[str], set[str]]]) -> set[str]:
    """The metric names under `node`; each aggregation's `by` labels with the metrics it aggregates."""
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name}
    if isinstance(node, promql_parser.MatrixSelector):
        return {node.vector_selector.name}
    names: set[str] = set()
    for child in (getattr(node, attribute, None) for attribute in ("expr", "lhs", "rhs")):
        if child is not None:
            names |= _walk(child, groupings)
    for argument in getattr(node, "args", []) or []:
        names |= _walk(argument, groupings)
    if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
        groupings.append((list(node.modifier.labels), names))
    return names


def test_every_expression_parses_and_names_only_registered_metrics_and_their_labels(dashboard):
    declared = _declared_labels()
    assert declared, "no Signpost metric registered: the imports above should have registered them"
    for title, expression in _expressions(dashboard):
        groupings: list[tuple[list[str], set[str]]] = []
        names = {_family(name, set(declared)) for name in _walk(_parse(expression), groupings)}
        unknown = names - set(declared)
        assert not unknown, f"{title}: {expression} names metrics no service registers: {unknown}"
        for labels, metrics in groupings:
            for metric in metrics:
                family = _family(metric, set(declared))
                allowed = declared[family] | TARGET_LABELS | ({"le"} if metric.endswith("_bucket") else set())
                assert set(labels) <= allowed, f"{title}: groups {family} by {set(labels) - allowed}, not its labels"


def test_every_registered_metric_is_on_the_dashboard(dashboard):
    shown: set[str] = set()
    declared = set(_declared_labels())
    for _, expression in _expressions(dashboard):
        shown |= {_family(name, declared) for name in _walk(_parse(expression), [])}
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
