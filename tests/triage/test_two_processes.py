"""Capacity is never exceeded with two triage processes consuming in one group on one database."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from signpost_contracts import Stream, topic
from signpost_devstack.net import free_port
from support.auth import TEST_JWT_SECRET
from support.events import referral_received
from support.infra import publish, read_topic, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]

TRIAGE_BIN = Path(sys.executable).with_name("signpost-triage")
HANDLED = re.compile(
    r'^signpost_messages_handled_total\{consumer="triage",event_type="referral\.received\.v1",outcome="processed"\}'
    r" (?P<count>[0-9.]+)$",
    re.MULTILINE,
)


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

    async def referrals_processed(self) -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            found = HANDLED.search((await client.get(f"{self.url}/metrics")).text)
        return int(float(found["count"])) if found else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def spawn_triage(tmp_path) -> Iterator[Callable[[str, dict[str, str]], TriageProcess]]:
    started: list[TriageProcess] = []

    def spawn(name: str, env: dict[str, str]) -> TriageProcess:
        process = TriageProcess(name, {**os.environ, **env}, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.stop()


async def group_is_stable_with(bootstrap: str, group: str, members: int) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
        _, _, state, *_, group_members = response.groups[0]
        return state == "Stable" and len(group_members) == members
    finally:
        await admin.close()


async def test_two_triage_processes_never_overfill_a_caseload(
    spawn_triage, infrastructure, namespace, database_url, policy_file, write_roster, make_connector
):
    roster = write_roster(
        [
            make_connector("paid-a", capacity=3),
            make_connector("paid-b", capacity=2),
            make_connector("volunteer-c", kind="volunteer", capacity=2),
            make_connector("elsewhere", capacity=50, areas=["LS10"]),
        ]
    )
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": namespace.bootstrap,
        "TOPIC_NAMESPACE": namespace.name,
        "POLICY_FILE": str(policy_file),
        "ROSTER_FILE": str(roster),
        "JWT_SECRET": TEST_JWT_SECRET,
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "SHUTDOWN_GRACE_SECONDS": "5",
    }
    first = spawn_triage("triage-1", {**env, "HTTP_PORT": str(free_port())})
    second = spawn_triage("triage-2", {**env, "HTTP_PORT": str(free_port())})
    for process in (first, second):
        await wait_until(process.ready, timeout=60, interval=0.2, message=f"{process.name} to be ready")
    await wait_until(
        lambda: group_is_stable_with(namespace.bootstrap, f"{namespace.name}.triage", members=2),
        timeout=30,
        interval=0.3,
        message="both processes to share the consumer group's partitions",
    )

    # Half light-touch, half medium, all in LS6: paid first, so the volunteer takes no new referral.
    needs = [["loneliness"], ["loneliness", "housing", "debt"]]
    events = [referral_received(needs=random.choice(needs)) for _ in range(40)]
    await publish(namespace, events)

    db = await asyncpg.connect(database_url)
    try:
        await wait_until(
            lambda: db.fetchval("SELECT count(*) = 40 FROM decisions"), timeout=60, message="all 40 referrals decided"
        )
        per_connector = {
            row["id"]: (row["assigned"], row["caseload"], row["capacity"])
            for row in await db.fetch(
                "SELECT c.id, c.caseload, c.capacity, count(a.referral_id) AS assigned FROM connectors c"
                " LEFT JOIN assignments a ON a.connector_id = c.id GROUP BY c.id"
            )
        }
        placed_twice = await db.fetchval(
            "SELECT count(*) FROM assignments a JOIN waitlist w ON w.referral_id = a.referral_id"
        )
        waitlisted = await db.fetchval("SELECT count(*) FROM waitlist")
        with pytest.raises(asyncpg.CheckViolationError, match="caseload_within_capacity"):
            await db.execute("UPDATE connectors SET caseload = capacity + 1 WHERE id = 'paid-a'")
    finally:
        await db.close()

    assert per_connector == {
        "paid-a": (3, 3, 3),
        "paid-b": (2, 2, 2),
        "volunteer-c": (0, 0, 2),
        "elsewhere": (0, 0, 50),
    }, "every connector exactly full, never over, and caseload matches the assignments"
    assert placed_twice == 0
    assert waitlisted == 40 - 5

    records = await read_topic(namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), expect=80)
    outcomes: dict[str, list[str]] = {event.subject: [] for event in events}
    for record in records:
        outcomes[record.key.decode()].append(dict(record.headers)["ce_type"].decode())
    assert all(
        sorted(types)
        in (["referral.assigned.v1", "referral.triaged.v1"], ["referral.triaged.v1", "referral.waitlisted.v1"])
        for types in outcomes.values()
    ), outcomes
    assert sum("referral.assigned.v1" in types for types in outcomes.values()) == 5

    handled = [await process.referrals_processed() for process in (first, second)]
    assert sum(handled) == 40
    assert all(count > 0 for count in handled), f"both processes must have consumed: {handled}"
