"""What a platform team needs around the pods: identities, disruption budgets, autoscaling ownership,
the way in from outside (Ingress, oauth2-proxy) and PostgreSQL backups. Checked from the files alone."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.manifests import DEPLOY, Manifests, Peer, allows, k8s_name
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return dict(deployment["spec"]["template"]["spec"])


def _pod_labels(base: Manifests, service: str) -> dict[str, str]:
    return dict(base.named("Deployment", k8s_name(service))["spec"]["template"]["metadata"]["labels"])


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


# --- PostgreSQL (CloudNativePG) ------------------------------------------------------------------

POSTGRES_INSTANCE = {"cnpg.io/cluster": "signpost-pg", "cnpg.io/instanceRole": "replica"}
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"


def test_postgres_instances_reach_each_others_instance_manager_for_the_failsafe_check(base: Manifests):
    policies = base.of_kind("NetworkPolicy")
    primary = {"cnpg.io/cluster": "signpost-pg", "cnpg.io/instanceRole": "primary"}
    assert allows(policies, primary, "Ingress", 8000, Peer(POSTGRES_INSTANCE))
    assert allows(policies, POSTGRES_INSTANCE, "Egress", 8000, Peer(primary))
    assert allows(policies, primary, "Ingress", 8000, Peer({}, namespace="cnpg-system"))
    service_pod = _pod_labels(base, "triage")
    assert not allows(policies, primary, "Ingress", 8000, Peer(service_pod)), "services need 5432 only"


def test_only_the_monitoring_namespace_scrapes_the_postgres_exporter(base: Manifests):
    policies = base.of_kind("NetworkPolicy")
    primary = {"cnpg.io/cluster": "signpost-pg", "cnpg.io/instanceRole": "primary"}
    assert allows(policies, primary, "Ingress", 9187, Peer({"app.kubernetes.io/name": "prometheus"}, "monitoring"))
    assert not allows(policies, primary, "Ingress", 9187, Peer({}, namespace="elsewhere"))


def test_postgres_archives_its_wal_to_the_object_store_the_nightly_backup_uses(base: Manifests):
    (cluster,) = base.of_kind("Cluster")
    (store,) = base.of_kind("ObjectStore")
    assert store["apiVersion"] == "barmancloud.cnpg.io/v1"
    (plugin,) = [p for p in cluster["spec"]["plugins"] if p["name"] == BARMAN_PLUGIN]
    assert plugin["isWALArchiver"] is True
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert "backup" not in cluster["spec"], "the in-tree barmanObjectStore is replaced by the plugin"
    (scheduled,) = base.of_kind("ScheduledBackup")
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == BARMAN_PLUGIN
    # CloudNativePG's cron has six fields (seconds first); five would be read as a different time.
    assert len(scheduled["spec"]["schedule"].split()) == 6
    assert store["spec"]["retentionPolicy"].endswith("d")


def test_backup_credentials_come_from_a_secret_created_out_of_band(base: Manifests):
    (store,) = base.of_kind("ObjectStore")
    credentials = store["spec"]["configuration"]["s3Credentials"]
    secrets = {reference["name"] for reference in credentials.values()}
    assert len(secrets) == 1
    assert all(set(reference) == {"name", "key"} for reference in credentials.values()), "references, not values"
    (secret,) = secrets
    assert secret not in {s["metadata"]["name"] for s in base.of_kind("Secret")}, "never in the repository"
    assert f"`{secret}`" in (DEPLOY / "README.md").read_text(encoding="utf-8"), "the runbook says how to create it"


def test_backups_are_encrypted_at_rest_in_the_object_store(base: Manifests):
    (store,) = base.of_kind("ObjectStore")
    configuration = store["spec"]["configuration"]
    assert configuration["wal"]["encryption"] == configuration["data"]["encryption"] == "AES256"
