"""Rebuilding the projection from the topics while the service runs (issue 9 §4).

The live service projects a shuffled, duplicated mix of every kind of event; the rebuild reads the
topics again into a fresh schema and swaps it in. The rebuilt tables must equal the live ones row
for row, the summary must not change, the running service must write its next events into the new
tables (not the renamed old ones), and the live consumer group's offsets must be left alone.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from reporting.adapters import schemas
from reporting.rebuild import RebuildRefused, drop, rebuild
from signpost_contracts import EventEnvelope, topic
from signpost_contracts.events.cases import Ons4
from signpost_contracts.registry import PIPELINE_HEALTH, SERVICE_SUBJECT
from signpost_contracts.topics import Stream
from support import events as build
from support.infra import publish_records, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# Every table of reporting's schema, each with its key and the columns that differ by nature between
# a projection and its rebuild: the moment each row was written or an event claimed, never a fact.
# table: (its key, the columns that differ by nature, which rows count). A running tally may keep a row
# that came back to zero after an intermediate state one order of delivery passed through and another
# did not: such a row says nothing, so only the rows with something counted are compared.
TABLES: dict[str, tuple[str, frozenset[str], str]] = {
    "referral_facts": ("referral_id", frozenset({"updated_at"}), "true"),
    "notification_facts": ("notification_id", frozenset({"updated_at"}), "true"),
    "case_measures": ("referral_id, stage", frozenset(), "true"),
    "urgent_alert_facts": ("outcome_event_id", frozenset({"updated_at"}), "true"),
    "connector_caseloads": ("connector_id", frozenset({"updated_at"}), "true"),
    # Pipeline health reports are read live only, never rebuilt: the rows are carried over, the inbox claims not.
    "pipeline_health": ("service, instance", frozenset(), "true"),
    "inbox": ("consumer, event_id", frozenset({"processed_at"}), f"event_type <> '{PIPELINE_HEALTH.name}'"),
    "outbox": ("id", frozenset(), "true"),
    "schema_migrations": ("name", frozenset({"applied_at"}), "true"),
    "referral_tallies": (
        "status, decision, referrer_ods_code, received, closed, closure",
        frozenset(),
        "referrals <> 0 OR sessions <> 0",
    ),
    "notification_tallies": ("bucket", frozenset(), "true"),
    "measure_pair_tallies": ("bucket", frozenset(), "true"),
    "measure_pairs_counted": ("referral_id", frozenset(), "true"),
    "outcome_daily": ("day, decile_group, measure, baseline, closing", frozenset(), "people <> 0"),
    "referral_daily": ("day, breakdown, value", frozenset(), "referrals <> 0 OR sessions <> 0"),
    # A row whose referrals all moved away (to another day or filter) keeps zeros: compared by what it counts.
    "dashboard_daily": (
        "day, area, route, referrer_kind",
        frozenset(),
        "referrals <> 0 OR notifications_sent <> 0 OR notifications_failed <> 0",
    ),
    "wait_daily": ("wait, day, bucket", frozenset(), "n <> 0"),
    "referrer_daily": ("referrer_ods_code, day, breakdown, value", frozenset(), "referrals <> 0"),
    "referrer_outcome_daily": ("referrer_ods_code, day, baseline, closing", frozenset(), "people <> 0"),
}


def _ref() -> str:
    return f"ref-{uuid.uuid4()}"


def _mix() -> list[EventEnvelope]:
    """Referrals in every state the projection knows, with the facts of a whole case's life."""
    t0 = datetime.now(UTC) - timedelta(days=30)
    closed, declined, urgent, handed, waiting, withdrawn, linked, early = (_ref() for _ in range(8))
    notice = str(uuid.uuid4())
    alert = build.urgent_unconfirmed(urgent, at=t0)
    return [
        build.referral_received(closed, at=t0),
        build.referral_triaged(closed, at=t0 + timedelta(hours=1)),
        build.referral_assigned(closed, at=t0 + timedelta(hours=2)),
        build.contact_recorded(closed, at=t0 + timedelta(days=1)),
        build.session_recorded(closed, at=t0 + timedelta(days=3)),
        build.session_recorded(closed, at=t0 + timedelta(days=10), sessions_used=2),
        build.measures_recorded(closed, at=t0 + timedelta(days=1)),
        build.measures_recorded(
            closed, at=t0 + timedelta(days=20), stage="closing", ucla3=[2, 1, 2], ucla3_total=5,
            ons_loneliness="occasionally", ons4=Ons4(life_satisfaction=6, worthwhile=7, happiness=6, anxiety=3),
        ),
        build.case_closed(closed, at=t0 + timedelta(days=21), reason="goals-met"),
        build.notification_sent(closed),
        build.referral_received(declined, at=t0),
        build.referral_triaged(declined, "declined", at=t0),
        build.notification_failed(declined, notice, at=t0),
        build.notification_sent(declined, notice, at=t0 + timedelta(hours=1), attempts=4),
        build.referral_received(urgent, at=t0, priority="urgent"),
        build.referral_triaged(urgent, "redirected", at=t0),
        alert,
        build.urgent_settled(urgent, outcome_event_id=alert.data["outcome_event_id"], at=t0 + timedelta(hours=1)),
        build.urgent_unconfirmed(urgent, at=t0 + timedelta(hours=2), escalations=2),
        build.referral_received_v2(handed, at=t0),
        build.referral_triaged(handed, at=t0),
        build.referral_waitlisted(handed, at=t0),
        build.referral_assigned_from_waitlist(handed, at=t0 + timedelta(days=2)),
        build.contact_recorded(handed, at=t0 + timedelta(days=3)),
        build.referral_handed_over(handed, at=t0 + timedelta(days=9)),
        build.referral_received(waiting, at=t0),
        build.referral_triaged(waiting, at=t0),
        build.referral_waitlisted(waiting, at=t0),
        build.notification_failed(waiting),
        build.referral_received(withdrawn, at=t0),
        build.referral_triaged(withdrawn, at=t0),
        build.referral_assigned(withdrawn, at=t0),
        build.referral_reassigned(withdrawn, at=t0 + timedelta(days=4)),
        build.contact_recorded(
            withdrawn, at=t0 + timedelta(days=5), outcome="no-answer", first_reached=False, could_not_contact=True,
            failed_attempts=3,
        ),
        build.referral_withdrawn(withdrawn, at=t0 + timedelta(days=6)),
        build.referral_received(linked, at=t0),
        build.referral_linked(linked, at=t0),
        build.referral_triaged(early, at=t0),  # its receipt never arrives: counted as awaiting receipt
        # Shuffled like the rest: the newest announcement must win in the live projection and the rebuilt one.
        build.roster_caseloads(at=t0 + timedelta(days=2)),
        build.roster_caseloads(at=t0 + timedelta(days=1), connectors=[
            {"connector_id": "leeds-north-amira", "kind": "paid", "capacity": 3, "open_cases": 1,
             "taking_new_work": True},
        ]),
    ]  # fmt: skip


def _shuffled_with_repeats(events: list[EventEnvelope], seed: int) -> list[EventEnvelope]:
    rng = random.Random(seed)
    delivered = events + rng.sample(events, len(events) // 3)
    rng.shuffle(delivered)
    return delivered


async def _tables(conn: asyncpg.Connection, schema: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in `schema`, but the columns that differ by nature."""
    names = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)}
    assert names == set(TABLES), f"reporting's tables changed: say here how each compares ({sorted(names)})"
    tables = {}
    for name, (key, differing, counted) in TABLES.items():
        rows = await conn.fetch(f'SELECT * FROM "{schema}"."{name}" WHERE {counted} ORDER BY {key}')
        tables[name] = [{k: v for k, v in dict(row).items() if k not in differing} for row in rows]
    return tables


def _counts(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "generated_at"}


async def _settled_live(reporting, conn: asyncpg.Connection, seed: int) -> tuple[list[EventEnvelope], dict, int]:
    """Feed the mix (and one unreadable record) to the live service and wait until every copy is handled.

    Returns the distinct events, the live tables, and how many records were published.
    """
    events = _mix()
    delivered = _shuffled_with_repeats(events, seed)
    repeats_before = reporting.duplicates_recognised()
    triage_topic = topic(Stream.TRIAGE, reporting.namespace.name)
    await publish_records(reporting.namespace.bootstrap, triage_topic, [(b"x", b"not json", [])])
    await reporting.publish(*delivered)
    await reporting.applied(*events)

    async def repeats_recognised() -> bool:
        return reporting.duplicates_recognised() - repeats_before == len(delivered) - len(events)

    await wait_until(repeats_recognised, message="every repeat to be recognised by the live service")
    return events, await _tables(conn, "public"), len(delivered) + 1


async def test_the_rebuilt_projection_equals_the_live_one_and_the_running_service_writes_into_it(reporting, events):
    conn = await asyncpg.connect(reporting.runtime.settings.database_url)
    try:
        mix, _, _ = await _settled_live(reporting, conn, seed=9)
        await reporting.deliver(build.pipeline_health(at=datetime.now(UTC)))
        live = await _tables(conn, "public")
        summary = _counts(await reporting.summary())
        rebuilt_from = (
            "referral_facts",
            "case_measures",
            "urgent_alert_facts",
            "connector_caseloads",
            "pipeline_health",
        )
        assert all(live[name] for name in rebuilt_from), "a mix to rebuild"

        out = io.StringIO()
        result = await rebuild(reporting.runtime.settings, out=out)

        assert await _tables(conn, "public") == live
        assert await _tables(conn, result.live_kept_as) == live, "the old projection is kept as it was"
        assert _counts(await reporting.summary()) == summary
        assert result.events_applied == len(mix)
        assert [reason.split(":")[0] for _, reason in result.skipped] == ["not a valid CloudEvent"]
        progress = out.getvalue()
        for stream in ("referrals", "triage", "notifications"):
            assert f"{reporting.namespace.name}.{stream}" in progress, progress

        # The running service, unrestarted, goes on in the new tables: a new event lands there...
        arrival = events.received(_ref())
        await reporting.deliver(arrival)
        new_row = await conn.fetchval(
            "SELECT count(*) FROM public.referral_facts WHERE referral_id = $1", arrival.subject
        )
        old_row = await conn.fetchval(
            f'SELECT count(*) FROM "{result.live_kept_as}".referral_facts WHERE referral_id = $1', arrival.subject
        )
        assert (new_row, old_row) == (1, 0)
        # ...and an event it applied before the rebuild is still recognised as a repeat by the rebuilt inbox.
        repeats_before = reporting.duplicates_recognised()
        await reporting.publish(mix[0])

        async def recognised() -> bool:
            return reporting.duplicates_recognised() > repeats_before

        await wait_until(recognised, message="the old event to be recognised as a repeat after the swap")
        assert (await reporting.summary())["total_referrals"] == summary["total_referrals"] + 1
    finally:
        await conn.close()


async def _group_offsets(bootstrap: str, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return {tp: meta.offset for tp, meta in committed.items()}
    finally:
        await admin.close()


async def test_the_rebuild_commits_no_offsets_for_the_live_group(reporting):
    settings = reporting.runtime.settings
    conn = await asyncpg.connect(settings.database_url)
    try:
        _, _, published = await _settled_live(reporting, conn, seed=4)
    finally:
        await conn.close()
    partitions = [
        TopicPartition(topic(stream, reporting.namespace.name), p)
        for stream in (Stream.REFERRALS, Stream.TRIAGE, Stream.NOTIFICATIONS)
        for p in range(3)
    ]
    group = settings.consumer_group

    async def everything_committed() -> dict[TopicPartition, int] | None:
        # An offset is committed just after its message is applied: wait for the last commit before comparing.
        offsets = await _group_offsets(settings.kafka_bootstrap_servers, group, partitions)
        return offsets if sum(max(offset, 0) for offset in offsets.values()) == published else None

    before = await wait_until(everything_committed, message="the live group to commit every record it read")

    await rebuild(settings, out=io.StringIO())

    assert await _group_offsets(settings.kafka_bootstrap_servers, group, partitions) == before


async def test_the_command_line_rebuilds_and_drops_the_old_projection(reporting):
    settings = reporting.runtime.settings
    conn = await asyncpg.connect(settings.database_url)
    try:
        _, live, _ = await _settled_live(reporting, conn, seed=12)
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "TOPIC_NAMESPACE": settings.topic_namespace,
        }
        command = Path(sys.executable).with_name("signpost-reporting")
        process = await asyncio.create_subprocess_exec(
            command, "rebuild", "--drop-old", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

        assert process.returncode == 0, stderr.decode()
        assert "swapped in" in stderr.decode()
        assert "(dropped)" in stderr.decode()
        assert await _tables(conn, "public") == live
        assert await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'reporting\\_%'") == []
    finally:
        await conn.close()


async def test_a_rebuild_left_unfinished_or_still_running_is_named(reporting):
    settings = reporting.runtime.settings
    leftover = "reporting_rebuild_20260101t000000z"
    await reporting.runtime.pool.execute(f'CREATE SCHEMA "{leftover}"')

    with pytest.raises(RebuildRefused, match=f"--drop {leftover}"):
        await rebuild(settings, out=io.StringIO())

    await drop(settings, leftover)
    running = await asyncpg.connect(settings.database_url)
    try:
        await running.execute("SELECT pg_advisory_lock($1)", schemas.REBUILD_LOCK)  # as a running rebuild holds it
        with pytest.raises(RebuildRefused, match="another rebuild is running"):
            await rebuild(settings, out=io.StringIO())
    finally:
        await running.close()
    assert await reporting.runtime.pool.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", leftover) == 0
    with pytest.raises(RebuildRefused, match="not a schema a rebuild made"):
        await drop(settings, "public")


async def test_an_unreachable_broker_or_database_is_named(reporting):
    settings = reporting.runtime.settings
    no_broker = settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:1"})
    with pytest.raises(RebuildRefused, match=r"cannot reach the Kafka broker at 127\.0\.0\.1:1"):
        await rebuild(no_broker, out=io.StringIO())
    schemas = await reporting.runtime.pool.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'reporting%'")
    assert schemas == 0, "the half-made rebuild schema was removed"

    no_database = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/signpost_reporting"})
    with pytest.raises(RebuildRefused, match="cannot reach reporting's database"):
        await rebuild(no_database, out=io.StringIO())


async def test_what_the_live_service_applies_during_the_rebuild_reaches_the_new_projection(reporting, monkeypatch):
    """Two moments the swap must cover, made to happen on purpose by wrapping its steps.

    After the rebuild has caught up but before it locks, the live service applies an event into the
    old tables: the rebuild must read it again under the locks. While the locks are held, the live
    service takes another event and waits on them: it must then apply it into the new tables.
    """
    conn = await asyncpg.connect(reporting.runtime.settings.database_url)
    before_lock, under_lock = build.referral_received(_ref()), build.referral_received(_ref())
    lock_live_tables, swap = schemas.lock_live_tables, schemas.swap

    async def applied_first_then_lock(admin: asyncpg.Connection, tables: list[str]) -> None:
        await reporting.deliver(before_lock)  # into the old tables, after the rebuild last read
        await lock_live_tables(admin, tables)

    async def swap_while_the_service_waits(admin: asyncpg.Connection, fresh: str, old: str) -> None:
        await reporting.publish(under_lock)

        async def consumer_waits_on_the_locks() -> bool:
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                " AND query LIKE 'INSERT INTO inbox %'"
            )
            return bool(await conn.fetchval(waiting))

        await wait_until(consumer_waits_on_the_locks, message="the live consumer to wait on the swap's locks")
        await swap(admin, fresh, old)

    try:
        mix, _, _ = await _settled_live(reporting, conn, seed=21)
        monkeypatch.setattr(schemas, "lock_live_tables", applied_first_then_lock)
        monkeypatch.setattr(schemas, "swap", swap_while_the_service_waits)

        result = await rebuild(reporting.runtime.settings, out=io.StringIO())

        await reporting.applied(under_lock)  # the live pool's inbox, now the rebuilt one
        inbox = "SELECT count(*) FROM {}.inbox WHERE event_id = $1"
        assert await conn.fetchval(inbox.format("public"), before_lock.id) == 1, "read again under the locks"
        assert await conn.fetchval(inbox.format("public"), under_lock.id) == 1
        assert await conn.fetchval(inbox.format(f'"{result.live_kept_as}"'), under_lock.id) == 0, "not the old tables"
        assert result.events_applied == len(mix) + 1
        referrals = {event.subject for event in mix if event.subject != SERVICE_SUBJECT}  # not the caseloads
        assert (await reporting.summary())["total_referrals"] == len(referrals) + 2
    finally:
        await conn.close()
