"""Readers for the deploy/ files: the Kubernetes base as kustomize would assemble it, compose, Dockerfile.

Everything is read with pyyaml and plain text parsing, so the invariants are checked without a
cluster, a Docker engine or kustomize. test_kustomize.py additionally renders the overlays with
`kubectl kustomize` where kubectl is installed.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from signpost_runtime.runtime import ServiceRuntime

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
NAMESPACE = "signpost"


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def parse_literals(literals: list[str]) -> dict[str, str]:
    return dict(literal.split("=", 1) for literal in literals)


@dataclass
class Manifests:
    """The resources a kustomization lists (files and nested kustomizations) plus its generators."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    config_map_files: dict[str, list[str]] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} named {name!r}, found {len(found)}"
        return found[0]

    def env_value(self, deployment: dict[str, Any], key: str) -> str | None:
        """The value the container sees: `env` (a literal or a ConfigMap key) wins over `envFrom` ConfigMaps,
        later ones over earlier. None for a Secret's value or an absent key."""
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for entry in container.get("env", []):
            if entry["name"] == key:
                reference = entry.get("valueFrom", {}).get("configMapKeyRef")
                if reference:
                    return self.config_maps.get(reference["name"], {}).get(reference["key"])
                return entry.get("value")
        value = None
        for source in container.get("envFrom", []):
            data = self.config_maps.get(source.get("configMapRef", {}).get("name", ""), {})
            value = data.get(key, value)
        return value


def load_kustomization(directory: Path) -> Manifests:
    manifests = Manifests()
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            nested = load_kustomization(path)
            manifests.docs += nested.docs
            manifests.config_maps |= nested.config_maps
            manifests.config_map_files |= nested.config_map_files
        else:
            manifests.docs += load_yaml_documents(path)
    for doc in manifests.docs:
        if doc["kind"] == "ConfigMap":
            manifests.config_maps[doc["metadata"]["name"]] = doc.get("data", {})
    for generator in kustomization.get("configMapGenerator", []):
        merged = manifests.config_maps.get(generator["name"], {}) if generator.get("behavior") == "merge" else {}
        manifests.config_maps[generator["name"]] = merged | parse_literals(generator.get("literals", []))
        manifests.config_map_files[generator["name"]] = generator.get("files", [])
    return manifests


@dataclass(frozen=True)
class ServiceFacts:
    """What the service's own code says about it: the source of truth the manifests must match."""

    name: str
    http_port: int
    consumer_group: str
    database: str
    consumes: tuple[str, ...]


@cache
def service_facts(service: str) -> ServiceFacts:
    app = importlib.import_module(f"{service}.app").create_app()
    runtime: ServiceRuntime = app.state.runtime
    settings = runtime.settings
    defaults = type(settings).model_fields
    namespace = defaults["topic_namespace"].default
    return ServiceFacts(
        name=service,
        http_port=defaults["http_port"].default,
        consumer_group=f"{namespace}.{defaults['service_name'].default}",
        database=defaults["database_url"].default.rsplit("/", 1)[1],
        consumes=tuple(f"{namespace}.{stream.value}" for stream in runtime.definition.consumes),
    )


# --- NetworkPolicy evaluation (matchLabels only: the manifests use nothing else) -----------------


@dataclass(frozen=True)
class Peer:
    """The other end of a connection: a pod with labels in a namespace, or (labels None) outside the cluster."""

    labels: dict[str, str] | None
    namespace: str = NAMESPACE


OUTSIDE = Peer(labels=None)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "extend the test evaluator before using matchExpressions"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _peer_matches(rule_peer: dict[str, Any], peer: Peer) -> bool:
    if peer.labels is None:
        return "ipBlock" in rule_peer
    if "ipBlock" in rule_peer:
        return False
    namespaces = rule_peer.get("namespaceSelector")
    in_namespace = (
        peer.namespace == NAMESPACE
        if namespaces is None
        else selects(namespaces, {"kubernetes.io/metadata.name": peer.namespace})
    )
    return in_namespace and selects(rule_peer.get("podSelector", {}), peer.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def allows(
    policies: list[dict[str, Any]], pod: dict[str, str], direction: str, port: int, peer: Peer, protocol: str = "TCP"
) -> bool:
    """Whether some policy selecting `pod` lets traffic to (Egress) or from (Ingress) `peer` on `port`."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in policies:
        spec = policy["spec"]
        if direction not in spec.get("policyTypes", []) or not selects(spec["podSelector"], pod):
            continue
        for rule in spec.get(key, []):
            rule_peers = rule.get(peers_key)
            if _port_matches(rule, port, protocol) and (
                not rule_peers or any(_peer_matches(p, peer) for p in rule_peers)
            ):
                return True
    return False


# --- Dockerfile reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT/CMD, or None for the shell form."""
        try:
            value = json.loads(self.arguments)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def dockerfile_stages(text: str) -> list[list[Instruction]]:
    """Instructions grouped by stage (each starts at FROM); comments dropped, continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[Instruction]] = [[]]
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return stages[1:]
