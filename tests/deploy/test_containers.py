"""The image recipe and the compose stack: what goes into an image and how the stack is wired."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from deploy.manifests import DEPLOY, REPO, Instruction, dockerfile_stages, k8s_name, service_facts
from reporting.handlers import CONSUMES as REBUILT_FROM
from signpost_contracts import TOPIC_CONFIGS, all_topics, topic
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit

IMAGES = (*SERVICES, "devstack")
DOCKERFILE = DEPLOY / "Dockerfile"


@pytest.fixture(scope="module")
def stages() -> list[list[Instruction]]:
    return dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))


def _final(stages: list[list[Instruction]], keyword: str) -> list[Instruction]:
    return [i for i in stages[-1] if i.keyword == keyword]


def _service_table() -> dict[str, tuple[str, str]]:
    """The Dockerfile's `case` arms: SERVICE) package=... command=..."""
    arms = re.findall(r"^\s*(\w+)\)\s+package=(\S+)\s+command=(\S+)\s*;;", DOCKERFILE.read_text(), re.MULTILINE)
    return {service: (package, command) for service, package, command in arms}


def test_the_final_image_runs_as_a_non_root_numeric_user(stages: list[list[Instruction]]):
    users = _final(stages, "USER")
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].arguments.partition(":")
    assert uid.isdigit(), "a numeric uid lets Kubernetes enforce runAsNonRoot"
    assert int(uid) > 0
    assert not gid or (gid.isdigit() and int(gid) > 0)


def test_the_final_image_holds_no_build_tools_and_leaves_health_to_kubernetes(stages: list[list[Instruction]]):
    final_text = " ".join(i.arguments for i in stages[-1])
    assert "uv" not in re.findall(r"[\w-]+", final_text), "uv belongs to the builder stage only"
    assert "apt-get install" not in final_text
    assert "--mount" not in final_text
    assert [i.arguments for i in _final(stages, "COPY")] == ["--from=builder /app /app"]
    assert not any(i.keyword == "HEALTHCHECK" for stage in stages for i in stage)
    assert _final(stages, "STOPSIGNAL")[-1].arguments == "SIGTERM"
    (entrypoint,) = _final(stages, "ENTRYPOINT")
    assert entrypoint.exec_form() == ["/app/bin/signpost-service"], "exec form: the process itself receives SIGTERM"
    env = " ".join(i.arguments for i in _final(stages, "ENV"))
    assert "PYTHONUNBUFFERED=1" in env
    assert "HTTP_HOST=0.0.0.0" in env


def test_both_stages_use_the_same_python_so_the_environment_can_be_copied(stages: list[list[Instruction]]):
    froms = [stage[0].arguments for stage in stages]
    assert froms[-1] == "${PYTHON_IMAGE} AS runtime"
    assert "${PYTHON_IMAGE} AS builder" in froms
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE.read_text(), re.MULTILINE)


def test_dependencies_come_from_the_lock_file_without_dev_tools_or_editable_installs(stages: list[list[Instruction]]):
    runs = [i.arguments for stage in stages for i in stage if i.keyword == "RUN" and "uv sync" in i.arguments]
    assert len(runs) == 2
    assert all("--frozen" in run and "--no-dev" in run and '--package "${PACKAGE}"' in run for run in runs)
    assert "--no-install-workspace" in runs[0]
    assert "--no-editable" in runs[1]


@pytest.mark.parametrize("image", IMAGES)
def test_each_image_installs_its_package_and_starts_its_console_script(pyprojects: dict[str, Any], image: str):
    member = f"services/{image}" if image in SERVICES else f"tools/{image}"
    project = pyprojects[member]["project"]
    package, command = _service_table()[image]
    assert package == project["name"]
    assert command in project["scripts"]
    if image in SERVICES:
        assert command == f"signpost-{k8s_name(image)}"


def test_the_dependency_layer_sees_every_workspace_member(pyprojects: dict[str, Any]):
    copied = set(re.findall(r"^COPY (\S+)/pyproject\.toml ", DOCKERFILE.read_text(), re.MULTILINE))
    assert copied == set(pyprojects), "uv needs every member's pyproject.toml to read the workspace lock"
    assert set(_service_table()) == set(IMAGES)


def test_the_build_context_sends_sources_but_no_local_state_or_secrets():
    rules = [line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert rules[0] == "**", "an allow-list: everything else stays out of the context"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    copied = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert {PurePosixPath(path).parts[0] for path in copied} <= allowed | {"uv.lock"}
    assert {"**/.venv", "**/.env", "**/__pycache__"} <= set(rules)


@pytest.mark.parametrize("image", IMAGES)
def test_compose_builds_each_image_from_the_dockerfile_at_the_repository_root(compose: dict[str, Any], image: str):
    built = {s["build"]["args"]["SERVICE"]: s for s in compose["services"].values() if "build" in s}
    assert image in built, f"no compose service builds SERVICE={image}"
    build = built[image]["build"]
    assert (DEPLOY / build["context"]).resolve() == REPO
    assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_each_service_on_its_port_with_its_database(compose: dict[str, Any], service: str):
    facts = service_facts(service)
    spec = compose["services"][k8s_name(service)]
    env = spec["environment"]
    assert spec["build"]["args"]["SERVICE"] == service
    assert env["HTTP_PORT"] == str(facts.http_port)
    assert env["HTTP_HOST"] == "0.0.0.0"
    assert env["DATABASE_URL"].endswith(f"@postgres:5432/{facts.database}")
    assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] in compose["services"]
    assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert spec["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
    assert f"127.0.0.1:{facts.http_port}:{facts.http_port}" in spec["ports"]


def test_compose_creates_every_contract_topic_and_every_database(compose: dict[str, Any]):
    assert compose["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert set(compose["services"]["kafka-topics"]["environment"]["TOPICS"].split()) == set(
        all_topics("signpost", SERVICES)
    )
    history = compose["services"]["kafka-topics"]["environment"]["HISTORY_TOPICS"].split()
    rebuilt_from = {topic(stream, "signpost") for stream in REBUILT_FROM}
    assert set(history) == rebuilt_from, "the streams reporting is rebuilt from"
    compacted = compose["services"]["kafka-topics"]["environment"]["COMPACT_TOPICS"].split()
    assert compacted == [topic(stream) for stream in TOPIC_CONFIGS]
    config = dict(
        pair.split("=", 1) for pair in compose["services"]["kafka-topics"]["environment"]["COMPACT_CONFIG"].split(",")
    )
    assert [config] == list(TOPIC_CONFIGS.values()), "as the devstack, the tests and the KafkaTopic create it"
    init_sql = (DEPLOY / "compose" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init_sql))
    assert created == {service_facts(service).database for service in SERVICES}


def test_compose_calls_postgres_healthy_only_when_it_answers_over_tcp(compose: dict[str, Any]):
    # The image's init phase serves the Unix socket only; the services connect over TCP.
    check = compose["services"]["postgres"]["healthcheck"]["test"]
    assert check[:2] == ["CMD", "pg_isready"]
    hosts = [arg.split("=", 1)[1] for arg in check if arg.startswith("--host=")]
    hosts += [check[i + 1] for i, arg in enumerate(check[:-1]) if arg == "-h"]
    assert hosts == ["127.0.0.1"], f"pg_isready must ask 127.0.0.1 over TCP, not the socket: {check}"


def test_compose_takes_secrets_from_an_env_file_that_git_ignores(compose: dict[str, Any]):
    secrets = ("JWT_SECRET", "POSTGRES_PASSWORD")
    jwt = compose["services"]["triage"]["environment"]["JWT_SECRET"]
    assert jwt.startswith("${JWT_SECRET:?"), "an unset secret must stop compose, not start with an empty key"
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    example = (DEPLOY / ".env.example").read_text()
    assert all(re.search(rf"^{name}=", example, re.MULTILINE) for name in secrets)
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_wheel_carries_its_migrations(pyprojects: dict[str, Any], service: str):
    # Images install wheels, not the source tree: migrations outside the package would be missing.
    migrations = REPO / "services" / service / "migrations"
    assert sorted(migrations.glob("*.sql")), f"{service} has no migrations"
    wheel = pyprojects[f"services/{service}"]["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel.get("force-include", {}).get("migrations") == f"{service}/migrations", (
        f"services/{service}/pyproject.toml: add [tool.hatch.build.targets.wheel.force-include] "
        f'"migrations" = "{service}/migrations", and read them from the package in app.py'
    )
