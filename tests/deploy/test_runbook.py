"""deploy/README.md is the platform team's runbook: its sections exist, its commands are ones the tools
accept, its restore example matches the backups the base takes, and every Secret the manifests read
is one it says how to create."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from deploy.manifests import DEPLOY, Manifests
from signpost_runtime import dlq_cli

pytestmark = pytest.mark.unit

README = (DEPLOY / "README.md").read_text(encoding="utf-8")
RUNBOOK_SECTIONS = (
    "Install",
    "Upgrade",
    "Scale",
    "Rotate secrets",
    "Restore a backup",
    "Replay dead letters",
    "Alerts",
)
PLACEHOLDERS = {"<ce_id>": "0b7c9d2e-event", "<partition>:<offset>": "0:12"}


def _section(title: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level (code blocks,
    whose shell comments start with `#`, are not headings)."""
    lines, fenced, level, taken = README.splitlines(), False, 0, []
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"^(#+) (.+)$", line) if not fenced else None
        if heading and level and len(heading.group(1)) <= level:
            break
        if level:
            taken.append(line)
        elif heading and heading.group(2) == title:
            level = len(heading.group(1))
    assert level, f"deploy/README.md has no section {title!r}"
    return "\n".join(taken)


def _secrets_read(base: Manifests) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                names.add(node["secretKeyRef"]["name"])
            if "secret" in node and isinstance(node["secret"], dict) and "secretName" in node["secret"]:
                names.add(node["secret"]["secretName"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for doc in base.docs:
        visit(doc.get("spec", {}))
    names |= {tls["secretName"] for ingress in base.of_kind("Ingress") for tls in ingress["spec"]["tls"]}
    for store in base.of_kind("ObjectStore"):
        names |= {ref["name"] for ref in store["spec"]["configuration"]["s3Credentials"].values()}
    return names


@pytest.mark.parametrize("title", RUNBOOK_SECTIONS)
def test_the_runbook_has_a_section_for_each_task_a_platform_team_does(title: str):
    assert _section(title).strip()


def test_every_dead_letter_command_in_the_runbook_is_one_the_cli_accepts(monkeypatch: pytest.MonkeyPatch):
    async def no_dead_letters(bootstrap: str, topic: str) -> list[Any]:
        return []

    monkeypatch.setattr(dlq_cli, "read_dead_letters", no_dead_letters)
    commands = re.findall(r"signpost-dlq ([^\n`]+)", _section("Replay dead letters"))
    assert len(commands) >= 4, "list, and replay by event id, by offset and all"
    for command in commands:
        for placeholder, value in PLACEHOLDERS.items():
            command = command.replace(placeholder, value)
        argv = shlex.split(command)
        try:
            status = dlq_cli.main(argv)
        except SystemExit as refused:  # argparse refuses a command it does not know with exit code 2
            pytest.fail(f"signpost-dlq {command}: the CLI refuses it (exit {refused.code})")
        # With no dead letters, list succeeds and a replay finds nothing to replay: both ran the real CLI.
        assert status == (0 if argv[0] == "list" else 1), command


def test_the_restore_example_recovers_from_the_store_the_base_archives_to_and_archives_apart(base: Manifests):
    (block,) = re.findall(r"```yaml\n(.*?)```", _section("Restore a backup"), re.DOTALL)
    restore = yaml.safe_load(block)
    (cluster,) = base.of_kind("Cluster")
    (store,) = base.of_kind("ObjectStore")
    assert restore["kind"] == "Cluster"
    assert restore["metadata"]["name"] == cluster["metadata"]["name"], "the services' -rw, -app, -ca names"
    recovery = restore["spec"]["bootstrap"]["recovery"]
    (source,) = [c for c in restore["spec"]["externalClusters"] if c["name"] == recovery["source"]]
    assert source["plugin"]["name"] == "barman-cloud.cloudnative-pg.io"
    assert source["plugin"]["parameters"] == {
        "barmanObjectName": store["metadata"]["name"],
        "serverName": cluster["metadata"]["name"],
    }
    assert recovery["owner"] == cluster["spec"]["bootstrap"]["initdb"]["owner"]
    (archiver,) = [p for p in restore["spec"]["plugins"] if p.get("isWALArchiver")]
    assert archiver["parameters"]["serverName"] != cluster["metadata"]["name"], "never onto the old timeline"


def test_every_secret_the_manifests_read_is_one_the_runbook_says_how_to_create(base: Manifests):
    table = _section("Secrets (never in the repository)")
    documented = set(re.findall(r"^\| `([^`]+)`(?:, `([^`]+)`)?", table, re.MULTILINE))
    names = {name for row in documented for name in row if name}
    missing = _secrets_read(base) - names
    assert not missing, f"Secrets the manifests read that deploy/README.md's table does not list: {missing}"
