"""The Kubernetes base keeps the promises that matter in production, checked from the files alone."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from deploy.manifests import DEPLOY, K8S, Manifests, k8s_name, load_yaml_documents, service_facts
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container per pod: probes, limits and drain are reasoned about per container"
    return containers[0]


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in named, f"probe port {port!r} is not a declared container port ({sorted(named)})"
    return named[port]


def test_every_yaml_document_under_deploy_parses_to_a_mapping():
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert len(files) >= 10
    for path in files:
        for doc in load_yaml_documents(path):
            assert isinstance(doc, dict), f"{path.relative_to(DEPLOY)}: a YAML document that is not a mapping"


def test_kustomizations_refer_only_to_files_that_exist():
    kustomizations = sorted(K8S.rglob("kustomization.yaml"))
    assert {k.parent.name for k in kustomizations} >= {"base", "local"}
    for kustomization in kustomizations:
        spec = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
        referenced = list(spec.get("resources", []))
        referenced += [patch["path"] for patch in spec.get("patches", []) if "path" in patch]
        referenced += [f for generator in spec.get("configMapGenerator", []) for f in generator.get("files", [])]
        for entry in referenced:
            target = kustomization.parent / entry
            assert target.is_file() or (target / "kustomization.yaml").is_file(), (
                f"{kustomization.relative_to(DEPLOY)} lists {entry!r}, which is neither a file nor a kustomization"
            )


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_hardened_pods_with_bounded_resources(base: Manifests, service: str):
    deployment = base.named("Deployment", k8s_name(service))
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    # At least two pods at all times: from the Deployment, or from KEDA's minimum where KEDA sizes it.
    scalers = [s for s in base.of_kind("ScaledObject") if s["spec"]["scaleTargetRef"]["name"] == k8s_name(service)]
    floor = scalers[0]["spec"]["minReplicaCount"] if scalers else deployment["spec"]["replicas"]
    assert floor >= 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("automountServiceAccountToken") is False
    hardening = container["securityContext"]
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["capabilities"]["drop"] == ["ALL"]
    tmp_volumes = {m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"}
    assert tmp_volumes, "a read-only root filesystem needs a writable /tmp"
    assert all("emptyDir" in v for v in pod["volumes"] if v["name"] in tmp_volumes)
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{service}: resources.{bound}"


@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_the_health_endpoints_on_the_port_the_service_listens_on(base: Manifests, service: str):
    facts = service_facts(service)
    deployment = base.named("Deployment", k8s_name(service))
    container = _container(deployment)
    assert base.env_value(deployment, "HTTP_PORT") == str(facts.http_port)
    assert base.env_value(deployment, "HTTP_HOST") == "0.0.0.0"
    expected = {"livenessProbe": "/health/live", "readinessProbe": "/health/ready", "startupProbe": "/health/live"}
    for probe, path in expected.items():
        check = container[probe]["httpGet"]
        assert check["path"] == path, f"{service} {probe}"
        assert _port_number(container, check["port"]) == facts.http_port, f"{service} {probe}"


@pytest.mark.parametrize("service", SERVICES)
def test_pods_are_given_time_to_drain_before_they_are_killed(base: Manifests, service: str):
    deployment = base.named("Deployment", k8s_name(service))
    grace = float(base.env_value(deployment, "SHUTDOWN_GRACE_SECONDS") or 20)
    pre_stop = _container(deployment)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep", "endpoints must drain before SIGTERM"
    # Three bounded phases after the preStop sleep: HTTP drain, consumer stop + outbox flush,
    # and the stop hooks' own flush (notifications' dispatcher).
    needed = int(pre_stop[1]) + 3 * grace
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > needed


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_uses_its_own_database_with_credentials_from_secrets(base: Manifests, service: str):
    facts = service_facts(service)
    cluster = base.of_kind("Cluster")[0]
    deployment = base.named("Deployment", k8s_name(service))
    env = _container(deployment)["env"]
    names = [entry["name"] for entry in env]
    url = base.env_value(deployment, "DATABASE_URL") or ""
    assert url.startswith(
        f"postgresql://$(DB_USER):$(DB_PASSWORD)@{cluster['metadata']['name']}-rw:5432/{facts.database}?"
    )
    assert "sslmode=verify-full" in url
    # Kubernetes expands $(VAR) only from variables defined earlier in the list.
    assert names.index("DB_USER") < names.index("DATABASE_URL")
    assert names.index("DB_PASSWORD") < names.index("DATABASE_URL")
    secrets = {
        entry["name"]: entry["valueFrom"]["secretKeyRef"]["name"]
        for entry in env
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    generated = f"{cluster['metadata']['name']}-app"
    assert secrets["DB_USER"] == secrets["DB_PASSWORD"] == generated, "credentials from the CloudNativePG secret"
    assert secrets["JWT_PUBLIC_KEY"], "the token key comes from a Secret, never a literal in the manifest"
    databases = {db["spec"]["name"]: db for db in base.of_kind("Database")}
    assert facts.database in databases
    assert databases[facts.database]["spec"]["owner"] == cluster["spec"]["bootstrap"]["initdb"]["owner"]
    assert databases[facts.database]["spec"]["cluster"]["name"] == cluster["metadata"]["name"]


def test_postgres_keeps_three_instances_with_a_synchronous_standby(base: Manifests):
    (cluster,) = base.of_kind("Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["postgresql"]["synchronous"]["number"] >= 1
    assert {db["spec"]["name"] for db in base.of_kind("Database")} == {service_facts(s).database for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_service_budget_and_scrape_config_select_the_pods(base: Manifests, service: str):
    name = k8s_name(service)
    deployment = base.named("Deployment", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service_resource = base.named("Service", name)
    assert service_resource["spec"]["selector"].items() <= labels.items()
    assert service_resource["spec"]["ports"][0]["targetPort"] == "http"
    budget = base.named("PodDisruptionBudget", name)
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(service_facts(service).http_port)
    assert annotations["prometheus.io/path"] == "/metrics"
    (monitor,) = base.of_kind("ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_resource["metadata"]["labels"].items()
    assert {"port": "http", "path": "/metrics"}.items() <= monitor["spec"]["endpoints"][0].items()


@pytest.mark.parametrize("service", SERVICES)
def test_images_are_pinned_to_a_version(base: Manifests, service: str):
    image = _container(base.named("Deployment", k8s_name(service)))["image"]
    repository, _, tag = image.rpartition(":")
    assert repository == f"signpost/{k8s_name(service)}"
    assert tag
    assert tag != "latest"


def test_triage_reads_its_policy_and_roster_from_a_mounted_config_map(base: Manifests):
    from triage.adapters.files import load_policy, load_roster

    deployment = base.named("Deployment", "triage")
    pod = deployment["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in _container(deployment)["volumeMounts"]}
    config_volumes = {v["configMap"]["name"]: v["name"] for v in pod["volumes"] if "configMap" in v}
    files = base.config_map_files["triage-rules"]
    mount_path = mounts[config_volumes["triage-rules"]]
    for variable, loader in (("POLICY_FILE", load_policy), ("ROSTER_FILE", load_roster)):
        path = base.env_value(deployment, variable) or ""
        directory, _, filename = path.rpartition("/")
        assert directory == mount_path, f"{variable}={path} is not in the ConfigMap mount {mount_path}"
        (source,) = [f for f in files if f.rpartition("/")[2] == filename]
        loader(K8S / "base" / source)  # raises ConfigFileError naming the field if the file is wrong


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_that_verifies_tokens_with_a_public_key_is_told_the_issuer_and_starts_with_it(
    base: Manifests, service: str
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from signpost_runtime.settings import ServiceSettings

    deployment = base.named("Deployment", k8s_name(service))
    env = {entry["name"]: entry for entry in _container(deployment)["env"]}
    assert "secretKeyRef" in env["JWT_PUBLIC_KEY"]["valueFrom"]
    issuer = base.env_value(deployment, "JWT_ISSUER")
    assert issuer
    assert issuer.startswith("https://"), f"{service}: JWT_ISSUER {issuer!r} is not the identity provider's URL"
    jwks = env["JWT_JWKS_URL"]["valueFrom"]["configMapKeyRef"]
    assert jwks["optional"] is True, "JWT_JWKS_URL is the alternative to JWT_PUBLIC_KEY, unset by default"
    assert jwks["name"] == env["JWT_ISSUER"]["valueFrom"]["configMapKeyRef"]["name"]
    assert base.env_value(deployment, "JWT_JWKS_URL") is None, "set together with JWT_PUBLIC_KEY it stops the service"
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    ServiceSettings(jwt_public_key=pem.decode(), jwt_issuer=issuer)  # what the pod's settings validation sees


def test_intake_builds_its_links_from_a_configured_https_base_url(base: Manifests):
    url = base.env_value(base.named("Deployment", "referral-intake"), "PUBLIC_BASE_URL") or ""
    assert url.startswith("https://"), f"PUBLIC_BASE_URL {url!r}: production links must not come from the Host header"
