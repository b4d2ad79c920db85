"""`signpost-dlq`: list a service's dead letters and replay one once its cause is fixed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.events import referral_received
from support.infra import publish, wait_until

pytestmark = pytest.mark.integration

DLQ_COMMAND = str(Path(sys.executable).with_name("signpost-dlq"))


async def _dlq(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [DLQ_COMMAND, *args], capture_output=True, text=True, timeout=60, check=False
    )


async def test_a_dead_letter_is_listed_with_its_reason_and_replayed_once_the_cause_is_fixed(probe, namespace):
    blocked = referral_received()
    await probe.pool.execute("INSERT INTO blocked VALUES ($1)", blocked.subject)
    await publish(namespace, [blocked])

    common = ["--consumer", "probe", "--namespace", namespace.name, "--bootstrap", namespace.bootstrap]

    async def listed() -> list[dict]:
        result = await _dlq("list", *common)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    [letter] = await wait_until(listed, message="the blocked event in the dead-letter topic")
    assert letter["event_id"] == blocked.id
    assert letter["event_type"] == "referral.received.v1"
    assert letter["attempts"] == "3"
    assert "is blocked" in letter["reason"]
    assert await probe.pool.fetchval("SELECT count(*) FROM effects") == 0

    await probe.pool.execute("DELETE FROM blocked")
    result = await _dlq("replay", *common, "--event-id", blocked.id)
    assert result.returncode == 0, result.stderr
    assert "replayed 1 message(s)" in result.stderr

    async def applied() -> int:
        return int(await probe.pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1", blocked.id))

    assert await wait_until(applied, message="the replayed event to be applied") == 1


async def test_replaying_an_unknown_event_id_says_nothing_matched(probe, namespace):
    result = await _dlq(
        "replay",
        "--consumer",
        "probe",
        "--namespace",
        namespace.name,
        "--bootstrap",
        namespace.bootstrap,
        "--event-id",
        "no-such-event",
    )
    assert result.returncode == 1
    assert "no dead letter matched" in result.stderr
