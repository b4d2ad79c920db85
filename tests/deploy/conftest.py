"""Session fixtures for tests/deploy: each file under deploy/ is read once."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from deploy.manifests import BASE, DEPLOY, REPO, Manifests, load_kustomization


@pytest.fixture(scope="session")
def base() -> Manifests:
    return load_kustomization(BASE)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pyprojects() -> dict[str, dict[str, Any]]:
    """Every workspace member's pyproject.toml, by its directory relative to the repository root."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    members: dict[str, dict[str, Any]] = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for directory in sorted(REPO.glob(pattern)):
            if (directory / "pyproject.toml").is_file():
                members[directory.relative_to(REPO).as_posix()] = tomllib.loads(
                    (directory / "pyproject.toml").read_text(encoding="utf-8")
                )
    return members
