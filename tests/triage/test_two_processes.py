"""Capacity is never exceeded with two triage processes consuming in one group on one database."""

from __future__ import annotations

import random

import asyncpg
import pytest

from signpost_contracts import Stream, topic
from signpost_devstack.net import free_port
from support.events import referral_received
from support.infra import about_referrals, publish, read_topic, wait_until
from support.triage_processes import group_is_stable_with, triage_env

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]


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
    env = triage_env(database_url, namespace, policy_file, roster)
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

    records = await read_topic(
        namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), until=lambda rs: len(about_referrals(rs)) >= 80
    )
    outcomes: dict[str, list[str]] = {event.subject: [] for event in events}
    for record in about_referrals(records):
        outcomes[record.key.decode()].append(dict(record.headers)["ce_type"].decode())
    assert all(
        sorted(types)
        in (["referral.assigned.v1", "referral.triaged.v1"], ["referral.triaged.v1", "referral.waitlisted.v1"])
        for types in outcomes.values()
    ), outcomes
    assert sum("referral.assigned.v1" in types for types in outcomes.values()) == 5

    handled = [await process.processed("referral.received.v1") for process in (first, second)]
    assert sum(handled) == 40
    assert all(count > 0 for count in handled), f"both processes must have consumed: {handled}"
