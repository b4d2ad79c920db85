"""The local overlay, as `kubectl kustomize` renders it, keeps its one broker plaintext with no login.

The base authenticates every Kafka client; the local cluster must not half-inherit that (a pod asking
for a KafkaUser Secret that is never generated would not start, a trigger with a login the broker does
not take would not scale). Skipped, with the reason, where kubectl is not installed (as test_kustomize.py).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from deploy.manifests import K8S, k8s_name
from signpost_contracts.vocabulary import SERVICES
from signpost_runtime.settings import KafkaClientSettings

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed: cannot render kustomize"),
]


@pytest.fixture(scope="module")
def local() -> list[dict[str, Any]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays/local")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize overlays/local failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_the_local_broker_listens_in_plaintext_with_no_login_and_no_acls(local: list[dict[str, Any]]):
    (kafka,) = _of_kind(local, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is False
    assert "authentication" not in listener
    assert "authorization" not in kafka["spec"]["kafka"], "ACLs would refuse every client (all are ANONYMOUS)"
    assert not _of_kind(local, "KafkaUser"), "the User Operator cannot set ACLs on a cluster with no authorizer"


@pytest.mark.parametrize("service", SERVICES)
def test_each_local_service_connects_in_plaintext_and_asks_for_no_kafka_secret(
    local: list[dict[str, Any]], service: str
):
    (deployment,) = [d for d in _of_kind(local, "Deployment") if d["metadata"]["name"] == k8s_name(service)]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    kafka_env = [entry["name"] for entry in container.get("env", []) if entry["name"].startswith("KAFKA_")]
    assert kafka_env == []
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in _of_kind(local, "ConfigMap")}
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env |= config_maps[source["configMapRef"]["name"]]
    kafka = {name.lower(): value for name, value in env.items() if name.startswith("KAFKA_")}
    settings = KafkaClientSettings(**kafka)  # the runtime accepts what the pod is given
    assert settings.kafka_security_protocol == "PLAINTEXT"
    (broker,) = _of_kind(local, "Kafka")
    (listener,) = broker["spec"]["kafka"]["listeners"]
    assert settings.kafka_bootstrap_servers.endswith(f":{listener['port']}")


def test_local_lag_triggers_read_the_plaintext_listener_without_a_login(local: list[dict[str, Any]]):
    assert not _of_kind(local, "TriggerAuthentication")
    for scaled_object in _of_kind(local, "ScaledObject"):
        for trigger in scaled_object["spec"]["triggers"]:
            assert "authenticationRef" not in trigger, scaled_object["metadata"]["name"]
