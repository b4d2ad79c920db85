"""What a platform team needs around the pods: identities, disruption budgets, autoscaling ownership,
the way in from outside (Ingress, oauth2-proxy) and PostgreSQL backups. Checked from the files alone."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.manifests import Manifests, k8s_name
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return dict(deployment["spec"]["template"]["spec"])


def _scaled_by_keda(base: Manifests) -> set[str]:
    return {s["spec"]["scaleTargetRef"]["name"] for s in base.of_kind("ScaledObject")}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_as_its_own_service_account_with_no_api_token(base: Manifests, service: str):
    name = k8s_name(service)
    pod = _pod(base.named("Deployment", name))
    account = base.named("ServiceAccount", pod.get("serviceAccountName", "default"))
    assert account["metadata"]["name"] == name, "not the namespace's shared default account"
    assert account["automountServiceAccountToken"] is False
    assert pod["automountServiceAccountToken"] is False


def test_no_two_services_share_a_service_account(base: Manifests):
    accounts = [_pod(base.named("Deployment", k8s_name(s))).get("serviceAccountName") for s in SERVICES]
    assert len(set(accounts)) == len(SERVICES)


def test_every_deployment_keda_scales_leaves_the_replica_count_to_keda(base: Manifests):
    scaled = _scaled_by_keda(base)
    assert scaled, "the consumers are scaled by KEDA ScaledObjects"
    for deployment in base.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        if name in scaled:
            assert "replicas" not in deployment["spec"], f"{name}: KEDA owns its count; a count here fights it"
        else:
            assert deployment["spec"].get("replicas", 1) >= 1, name


def test_every_disruption_budget_lets_a_drain_evict_pods_that_are_not_ready(base: Manifests):
    budgets = base.of_kind("PodDisruptionBudget")
    assert {b["metadata"]["name"] for b in budgets} >= {k8s_name(s) for s in SERVICES}
    for budget in budgets:
        assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow", budget["metadata"]["name"]
