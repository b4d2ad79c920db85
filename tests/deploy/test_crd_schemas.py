"""The CloudNativePG, Barman Cloud, Prometheus Operator, Strimzi and KEDA resources of both kustomizations against
the operators' own CRD schemas (vendored in tests/deploy/crds/, versions in its README), strictly: a field the operator
does not know fails here instead of being silently dropped by the API server."""

from __future__ import annotations

import copy
import functools
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from deploy.crd_schema import errors, schemas
from deploy.manifests import K8S

pytestmark = pytest.mark.unit

VALIDATED_GROUPS = (
    "postgresql.cnpg.io/",
    "barmancloud.cnpg.io/",
    "monitoring.coreos.com/",
    "kafka.strimzi.io/",
    "keda.sh/",
)
# The local overlay deletes the KafkaUsers and KEDA's TriggerAuthentication: its one broker has no login.
WITHOUT_LOGIN = {"KafkaUser", "TriggerAuthentication"}
EXPECTED_KINDS = {
    "base": {
        "Cluster",
        "ServiceMonitor",
        "PrometheusRule",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "ScaledObject",
        "TriggerAuthentication",
    },
}
EXPECTED_KINDS["overlays/local"] = EXPECTED_KINDS["base"] - WITHOUT_LOGIN
KUSTOMIZATIONS = list(EXPECTED_KINDS)


@functools.cache
def _render(kustomization: str) -> str:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / kustomization)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {kustomization}:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def known() -> dict[tuple[str, str], dict[str, Any]]:
    return schemas()


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, [doc for doc in yaml.safe_load_all(_render(request.param)) if doc]


def test_every_operator_resource_with_a_vendored_crd_is_valid_for_its_operator_strictly(
    rendered: tuple[str, list[dict[str, Any]]], known: dict[tuple[str, str], dict[str, Any]]
):
    kustomization, docs = rendered
    checked = [doc for doc in docs if doc["apiVersion"].startswith(VALIDATED_GROUPS)]
    kinds = {doc["kind"] for doc in checked}
    assert EXPECTED_KINDS[kustomization] <= kinds, kinds
    for doc in checked:
        key = (doc["apiVersion"], doc["kind"])
        assert key in known, f"no vendored CRD for {key}: add it to tests/deploy/crds/"
        problems = errors(doc, known[key])
        assert not problems, f"{doc['kind']} {doc['metadata']['name']}: {problems}"


def _misspell(path: tuple[str | int, ...], wrong: str) -> Callable[[dict[str, Any]], None]:
    """Rename the last key of `path` to `wrong`, keeping its value (a typo the API server would prune)."""

    def mutate(doc: dict[str, Any]) -> None:
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[wrong] = parent.pop(path[-1])

    return mutate


# (kind, misspelling, the misspelt name the errors must mention): top-level and nested inside lists.
MISSPELLINGS = [
    ("Cluster", _misspell(("spec", "instances"), "instance"), "instance"),
    ("Kafka", _misspell(("spec", "kafka", "listeners", 0, "tls"), "tsl"), "tsl"),
    ("KafkaNodePool", _misspell(("spec", "storage", "volumes", 0, "deleteClaim"), "deleteClaims"), "deleteClaims"),
    ("KafkaTopic", _misspell(("spec", "partitions"), "partition"), "partition"),
    ("KafkaUser", _misspell(("spec", "authorization", "acls", 0, "operations"), "operation"), "operation"),
    ("ScaledObject", _misspell(("spec", "minReplicaCount"), "minReplicas"), "minReplicas"),
    ("TriggerAuthentication", _misspell(("spec", "secretTargetRef", 0, "parameter"), "param"), "param"),
]


@pytest.mark.parametrize(
    ("rendered", "kind", "mutate", "wrong"),
    [
        pytest.param(kustomization, kind, mutate, wrong, id=f"{kustomization}-{kind}")
        for kind, mutate, wrong in MISSPELLINGS
        for kustomization in KUSTOMIZATIONS
        if kind in EXPECTED_KINDS[kustomization]
    ],
    indirect=["rendered"],
)
def test_strict_validation_refuses_a_field_the_operator_would_silently_drop(
    rendered: tuple[str, list[dict[str, Any]]],
    known: dict[tuple[str, str], dict[str, Any]],
    kind: str,
    mutate: Callable[[dict[str, Any]], None],
    wrong: str,
):
    _, docs = rendered
    original = next(doc for doc in docs if doc["kind"] == kind)
    schema = known[(original["apiVersion"], kind)]
    assert not errors(original, schema)
    misspelt = copy.deepcopy(original)
    mutate(misspelt)
    problems = errors(misspelt, schema)
    assert any(f"{wrong!r} was unexpected" in problem for problem in problems), problems
