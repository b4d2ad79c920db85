"""Triage as real OS processes on one database and one consumer group, for the concurrency tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from support.auth import TEST_JWT_SECRET

TRIAGE_BIN = Path(sys.executable).with_name("signpost-triage")
HANDLED = re.compile(
    r'^signpost_messages_handled_total\{consumer="triage",event_type="(?P<type>[^"]+)",outcome="processed"\}'
    r" (?P<count>[0-9.]+)$",
    re.MULTILINE,
)


def triage_env(database_url: str, namespace, policy_file: Path, roster_file: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": namespace.bootstrap,
        "TOPIC_NAMESPACE": namespace.name,
        "POLICY_FILE": str(policy_file),
        "ROSTER_FILE": str(roster_file),
        "JWT_SECRET": TEST_JWT_SECRET,
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }


class TriageProcess:
    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.port = int(env["HTTP_PORT"])
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen([str(TRIAGE_BIN)], env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self) -> bool:
        assert self.process.poll() is None, f"{self.name} exited early:\n{self.log_path.read_text()[-3000:]}"
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{self.url}/health/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def processed(self, event_type: str | None = None) -> int:
        """Messages this process applied, of one type or of every type."""
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        return sum(
            int(float(found["count"]))
            for found in HANDLED.finditer(text)
            if event_type is None or found["type"] == event_type
        )

    def log_tail(self, characters: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawned(name: str, env: dict[str, str], log_dir: Path) -> TriageProcess:
    return TriageProcess(name, {**os.environ, **env}, log_dir / f"{name}.log")


async def group_is_stable_with(bootstrap: str, group: str, members: int) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        _, _, state, *_, group_members = response.groups[0]
        return state == "Stable" and len(group_members) == members
    finally:
        await admin.close()
