"""The CloudNativePG, Barman Cloud and Prometheus Operator resources of both kustomizations against the
operators' own CRD schemas (vendored in tests/deploy/crds/, versions in its README), strictly: a field the operator does
not know fails here instead of being silently dropped by the API server."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from deploy.crd_schema import errors, schemas
from deploy.manifests import K8S

pytestmark = pytest.mark.unit

VALIDATED_GROUPS = ("postgresql.cnpg.io/", "barmancloud.cnpg.io/", "monitoring.coreos.com/")


@pytest.fixture(scope="module", params=["base", "overlays/local"])
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / request.param)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {request.param}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_every_operator_resource_with_a_vendored_crd_is_valid_for_its_operator_strictly(rendered: list[dict[str, Any]]):
    known = schemas()
    checked = [doc for doc in rendered if doc["apiVersion"].startswith(VALIDATED_GROUPS)]
    kinds = {doc["kind"] for doc in checked}
    assert {"Cluster", "ServiceMonitor", "PrometheusRule"} <= kinds, kinds
    for doc in checked:
        key = (doc["apiVersion"], doc["kind"])
        assert key in known, f"no vendored CRD for {key}: add it to tests/deploy/crds/"
        problems = errors(doc, known[key])
        assert not problems, f"{doc['kind']} {doc['metadata']['name']}: {problems}"


def test_strict_validation_refuses_a_field_the_operator_would_silently_drop(rendered: list[dict[str, Any]]):
    (cluster,) = [doc for doc in rendered if doc["kind"] == "Cluster"]
    misspelt = {**cluster, "spec": {**cluster["spec"], "instance": 3}}
    problems = errors(misspelt, schemas()[("postgresql.cnpg.io/v1", "Cluster")])
    assert any("instance" in problem for problem in problems), problems
