"""What the services' metrics registry declares, and what a PromQL expression uses of it.

Shared by the dashboard and alert tests: both must name only metrics the code registers and only the
labels those metrics carry. Expressions are parsed with promql-parser, the Rust parser that
Prometheus-compatible databases use, so a typo fails a test rather than an empty panel or a silent alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import promql_parser
from prometheus_client import REGISTRY

import notifications.metrics  # noqa: F401  (registers the notification metrics)
import signpost_runtime.metrics  # noqa: F401  (registers every service's metrics)

# Labels the Prometheus Operator puts on every scraped target.
TARGET_LABELS = {"job", "namespace", "pod", "instance", "service", "container", "endpoint"}
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def declared_labels() -> dict[str, set[str]]:
    """Label names from each metric's declaration (a labelled metric has no samples until it is used)."""
    declared: dict[str, set[str]] = {}
    for collector in list(REGISTRY._collector_to_names):  # the client has no public listing of collectors
        name = getattr(collector, "_name", "")
        if name.startswith("signpost_"):
            declared[name] = set(getattr(collector, "_labelnames", ()))
    return declared


def family(sample_name: str, families: set[str]) -> str:
    for suffix in SAMPLE_SUFFIXES:
        if sample_name.endswith(suffix) and sample_name.removesuffix(suffix) in families:
            return sample_name.removesuffix(suffix)
    return sample_name


@dataclass
class Uses:
    """What an expression reads: metric names, each aggregation's `by` labels with the metrics under
    it, and the label names each selector matches on."""

    metrics: set[str] = field(default_factory=set)
    groupings: list[tuple[list[str], set[str]]] = field(default_factory=list)
    matchers: list[tuple[str, set[str]]] = field(default_factory=list)


def walk(node: Any, uses: Uses) -> set[str]:
    """The metric names under `node`, recording in `uses` what it groups and matches by."""
    if isinstance(node, promql_parser.MatrixSelector):
        node = node.vector_selector
    if isinstance(node, promql_parser.VectorSelector):
        uses.metrics.add(node.name)
        uses.matchers.append((node.name, {matcher.name for matcher in node.matchers.matchers}))
        return {node.name}
    names: set[str] = set()
    for child in (getattr(node, attribute, None) for attribute in ("expr", "lhs", "rhs")):
        if child is not None:
            names |= walk(child, uses)
    for argument in getattr(node, "args", []) or []:
        names |= walk(argument, uses)
    if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
        uses.groupings.append((list(node.modifier.labels), names))
    return names


def uses_of(expression: str) -> Uses:
    uses = Uses()
    walk(promql_parser.parse(expression), uses)
    return uses
