"""Shared triage test material: a small policy, roster files, and a running triage service."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from support.services import settings_for
from support.triage_processes import TriageProcess, spawned
from triage.app import create_app
from triage.config import TriageSettings
from triage.domain.policy import Policy

POLICY_TOML = """
version = "test-policy-7"

[service_area]
name = "Leeds"
postcode_prefixes = ["LS", "BD1"]

[age]
minimum = 18
when_unknown = "accept"

[[redirect_rules]]
id = "under-18"
description = "Under 18: children's services."
when = { age_below = 18 }
service = "Children's services"
contact = "0113 000 0000"
summary = "We support adults; please refer to children's services."

[[redirect_rules]]
id = "crisis"
description = "Risk of self-harm: urgent crisis support."
when = { risk_flags_any = ["self-harm-risk"] }
service = "Mental health crisis team (NHS 111, option 2)"
contact = "Call NHS 111 and choose option 2."
urgent = true
summary = "This person may be at risk; contact the crisis team now."

[[complexity_rules]]
id = "many-needs"
description = "Three or more needs."
when = { needs_at_least = 3 }
level = "medium"

[[complexity_rules]]
id = "interpreter-needed"
description = "An interpreter is needed."
when = { interpreter_needed = true }
level = "medium"

[[complexity_rules]]
id = "safeguarding-concern"
description = "A safeguarding concern was flagged."
when = { risk_flags_any = ["safeguarding-concern"] }
level = "high"
"""


def roster_toml(connectors: list[dict[str, Any]]) -> str:
    """TOML for a roster: JSON strings, lists and integers are valid TOML values too."""
    blocks = []
    for connector in connectors:
        lines = ["[[connectors]]"] + [f"{key} = {json.dumps(value)}" for key, value in connector.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def connector(connector_id: str, *, kind: str = "paid", capacity: int = 5, areas: list[str] | None = None, **more: Any):
    return {
        "id": connector_id,
        "display_name": connector_id.title(),
        "areas": areas or ["LS6"],
        "kind": kind,
        "capacity": capacity,
        **more,
    }


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate(tomllib.loads(POLICY_TOML))


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_TOML)
    return path


@pytest.fixture
def write_roster(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    def write(connectors: list[dict[str, Any]]) -> Path:
        path = tmp_path / "roster.toml"
        path.write_text(roster_toml(connectors))
        return path

    return write


@pytest.fixture
def make_connector() -> Callable[..., dict[str, Any]]:
    return connector


@pytest.fixture
def triage_app(infrastructure, namespace, database_url, policy_file) -> Callable[..., FastAPI]:
    """Build (not start) a triage app on this test's topics and database; start it with `serving(app)`."""

    def build(roster_file: Path, **overrides: Any) -> FastAPI:
        settings = settings_for(
            TriageSettings,
            infrastructure,
            namespace,
            database_url,
            policy_file=policy_file,
            roster_file=roster_file,
            **overrides,
        )
        return create_app(settings)

    return build


@pytest.fixture
def spawn_triage(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], TriageProcess]]:
    """Start triage processes (`signpost-triage`) that are stopped when the test ends; logs in tmp_path."""
    started: list[TriageProcess] = []

    def spawn(name: str, env: dict[str, str]) -> TriageProcess:
        process = spawned(name, env, tmp_path)
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.stop()
