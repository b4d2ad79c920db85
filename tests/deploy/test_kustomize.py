"""The overlays as `kubectl kustomize` renders them: generated names resolve, patches keep the hardening.

kubectl is not part of the project's toolchain (no cluster is needed to render), so these tests run
where it is installed, as on the project's machines, and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from deploy.manifests import K8S, k8s_name
from signpost_contracts.vocabulary import SERVICES

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: cannot render kustomize"),
]


def _render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=["base", "overlays/local"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, _render(request.param)


def _of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_everything_lands_in_one_namespace(rendered: tuple[str, list[dict[str, Any]]]):
    _, docs = rendered
    namespaced = [doc for doc in docs if doc["kind"] != "Namespace"]
    assert {doc["metadata"].get("namespace") for doc in namespaced} == {"signpost"}


def test_every_config_map_a_pod_uses_is_rendered(rendered: tuple[str, list[dict[str, Any]]]):
    _, docs = rendered
    config_maps = {doc["metadata"]["name"] for doc in _of_kind(docs, "ConfigMap")}
    for deployment in _of_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        used = {v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v}
        used |= {
            s["configMapRef"]["name"] for c in pod["containers"] for s in c.get("envFrom", []) if "configMapRef" in s
        }
        used |= {
            e["valueFrom"]["configMapKeyRef"]["name"]
            for c in pod["containers"]
            for e in c.get("env", [])
            if "configMapKeyRef" in e.get("valueFrom", {})
        }
        assert used <= config_maps, (
            f"{deployment['metadata']['name']} refers to missing ConfigMaps {used - config_maps}"
        )


def test_patches_keep_every_pod_hardened_and_probed(rendered: tuple[str, list[dict[str, Any]]]):
    _, docs = rendered
    deployments = {d["metadata"]["name"]: d for d in _of_kind(docs, "Deployment")}
    assert {k8s_name(s) for s in SERVICES} <= set(deployments)
    for name, deployment in deployments.items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            hardening = container["securityContext"]
            assert hardening["readOnlyRootFilesystem"] is True, name
            assert hardening["allowPrivilegeEscalation"] is False, name
            assert hardening["capabilities"]["drop"] == ["ALL"], name
            assert {"livenessProbe", "readinessProbe"} <= set(container), name
            assert container["resources"]["limits"]["memory"], name


def test_the_local_overlay_fits_one_broker_and_uses_local_images_and_tokens():
    docs = _render("overlays/local")
    brokers = sum(p["spec"]["replicas"] for p in _of_kind(docs, "KafkaNodePool"))
    for topic in _of_kind(docs, "KafkaTopic"):
        assert topic["spec"]["replicas"] <= brokers
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]
    partitions = min(t["spec"]["partitions"] for t in _of_kind(docs, "KafkaTopic"))
    assert all(s["spec"]["maxReplicaCount"] <= partitions for s in _of_kind(docs, "ScaledObject"))
    (cluster,) = _of_kind(docs, "Cluster")
    assert cluster["spec"]["instances"] == 1
    assert "synchronous" not in cluster["spec"]["postgresql"]
    for service in SERVICES:
        (deployment,) = [d for d in _of_kind(docs, "Deployment") if d["metadata"]["name"] == k8s_name(service)]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == f"signpost/{k8s_name(service)}:dev"
        names = [entry["name"] for entry in container["env"]]
        assert "JWT_SECRET" in names
        # Local tokens (signpost-token, the dev token) carry no issuer and no key id.
        assert not {"JWT_PUBLIC_KEY", "JWT_ISSUER", "JWT_JWKS_URL"} & set(names)
    (intake_settings,) = [
        c for c in _of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("referral-intake-")
    ]
    assert intake_settings["data"]["PUBLIC_BASE_URL"] == "http://localhost:8081"


def test_no_overlay_gives_a_count_to_a_deployment_keda_scales(rendered: tuple[str, list[dict[str, Any]]]):
    overlay, docs = rendered
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in _of_kind(docs, "ScaledObject")}
    assert scaled
    for deployment in _of_kind(docs, "Deployment"):
        if deployment["metadata"]["name"] in scaled:
            assert "replicas" not in deployment["spec"], f"{overlay}: {deployment['metadata']['name']}"


def test_the_local_overlay_drops_backups_it_has_no_object_storage_for():
    docs = _render("overlays/local")
    assert not _of_kind(docs, "ObjectStore")
    assert not _of_kind(docs, "ScheduledBackup")
    (cluster,) = _of_kind(docs, "Cluster")
    assert "plugins" not in cluster["spec"], "a WAL archiver with no store would fail every archive"
    base = _render("base")
    assert _of_kind(base, "ObjectStore")
    assert _of_kind(base, "ScheduledBackup")
