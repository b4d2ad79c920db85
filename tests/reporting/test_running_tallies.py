"""The summary's running tallies (migration 0006) always equal a count of the whole projection.

The summary reads triggers' running totals instead of scanning a million referrals. These tests fill a
projection with the bench's generator (COPY fires the triggers, as any writer does), change it the ways
events do (status moves, late receipts, closures, replayed notifications, a stage recorded again, a
rebuild's delete) and compare every figure the summary reads with the scan it replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import asyncpg
import pytest

from reporting.adapters.case_store import CaseStore
from reporting.adapters.export_store import BREAKDOWNS, DAILY, ExportStore
from reporting.adapters.store import ProjectionStore
from reporting.domain.cases import SCORED_MEASURES
from reporting.domain.facts import Measures, NotificationOutcome
from reporting.domain.outcomes import outcomes, outcomes_of_counts
from reporting.domain.status import Decision, Status
from signpost_contracts.vocabulary import OnsLoneliness
from signpost_devstack.bench_reporting.fill import fill, fill_then_migrate
from signpost_runtime import db

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "reporting" / "migrations"
_PAIRS = (
    "FROM case_measures b JOIN case_measures c"
    " ON c.referral_id = b.referral_id AND b.stage = 'baseline' AND c.stage = 'closing'"
)
_ORDER = "ARRAY[" + ", ".join(f"'{answer}'" for answer in get_args(OnsLoneliness)) + "]"
_CLOSING_RANK = f"array_position({_ORDER}, c.ons_loneliness)"
_BASELINE_RANK = f"array_position({_ORDER}, b.ons_loneliness)"


async def scanned(connection: asyncpg.Connection) -> dict[str, Any]:
    """Every figure the summary reads, counted the slow way (the queries the tallies replaced)."""
    scores = {}
    for m in SCORED_MEASURES:
        both = f"FILTER (WHERE b.{m} IS NOT NULL AND c.{m} IS NOT NULL)"
        row = await connection.fetchrow(
            f"SELECT count(*) {both} AS n, avg(b.{m}) {both} AS b, avg(c.{m}) {both} AS c {_PAIRS}"
        )
        scores[m] = (row["n"], row["b"], row["c"])
    lonely = await connection.fetchrow(
        f"SELECT count(*) AS n,"
        f" count(*) FILTER (WHERE {_CLOSING_RANK} > {_BASELINE_RANK}) AS less,"
        f" count(*) FILTER (WHERE c.ons_loneliness = b.ons_loneliness) AS same,"
        f" count(*) FILTER (WHERE {_CLOSING_RANK} < {_BASELINE_RANK}) AS more"
        f" {_PAIRS} WHERE b.ons_loneliness IS NOT NULL AND c.ons_loneliness IS NOT NULL"
    )
    return {
        "totals": tuple(
            await connection.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE received_at IS NULL) FROM referral_facts"
            )
        ),
        "status": dict(await connection.fetch("SELECT status, count(*) FROM referral_facts GROUP BY 1")),
        "decision": dict(
            await connection.fetch(
                "SELECT decision, count(*) FROM referral_facts WHERE decision IS NOT NULL GROUP BY 1"
            )
        ),
        "notifications": tuple(
            await connection.fetchrow(
                "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL),"
                " count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NOT NULL) FROM notification_facts"
            )
        ),
        "referrers": [
            tuple(row)
            for row in await connection.fetch(
                "SELECT referrer_ods_code, count(*) AS n, count(*) FILTER (WHERE decision = 'declined')"
                " FROM referral_facts GROUP BY 1 ORDER BY n DESC, referrer_ods_code NULLS LAST LIMIT 20"
            )
        ],
        "closures": dict(
            await connection.fetch(
                "SELECT closure, count(*) FROM referral_facts WHERE closed_at IS NOT NULL GROUP BY 1"
            )
        ),
        "sessions": tuple(
            await connection.fetchrow(
                "SELECT coalesce(sum(sessions_used), 0), count(*) FROM referral_facts WHERE closed_at IS NOT NULL"
            )
        ),
        "scores": scores,
        "loneliness": tuple(lonely),
    }


_IN = "received_at >= $1 AND received_at < $2"
_CLOSED = "closed_at >= $1 AND closed_at < $2"


async def exported_by_scan(connection: asyncpg.Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """A period's export figures counted from the referrals (the queries the daily rows replaced)."""
    figures: dict[str, Any] = {}
    for name, column in BREAKDOWNS.items():
        if name in DAILY:
            rows = await connection.fetch(
                f"SELECT coalesce({column}, 'unknown'), count(*) FROM referral_facts WHERE {_IN} GROUP BY 1", start, end
            )
            figures[name] = dict(rows)
    figures["all"] = await connection.fetchval(f"SELECT count(*) FROM referral_facts WHERE {_IN}", start, end)
    for decision in ("declined", "redirected"):
        rows = await connection.fetch(
            "SELECT rule, count(DISTINCT referral_id) FROM referral_facts, unnest(fired_rules) AS rule"
            f" WHERE {_IN} AND decision = $3 GROUP BY rule",
            start,
            end,
            decision,
        )
        figures[decision] = dict(rows)
    figures["closures"] = dict(
        await connection.fetch(f"SELECT closure, count(*) FROM referral_facts WHERE {_CLOSED} GROUP BY 1", start, end)
    )
    closed = await connection.fetchrow(
        f"SELECT count(*), coalesce(sum(sessions_used), 0) FROM referral_facts WHERE {_CLOSED}", start, end
    )
    figures["sessions"] = {"closed_cases": closed[0], "total": closed[1]}
    rows = await ExportStore(connection).measure_pairs(start, end)
    figures["outcomes"] = outcomes(rows, lonely_threshold=6)
    figures["outcomes_core20"] = outcomes([r for r in rows if r["imd_decile"] in (1, 2)], lonely_threshold=6)
    figures["people_known"] = sum(1 for r in rows if r["imd_decile"] is not None)
    return figures


async def exported_by_day(connection: asyncpg.Connection, start: datetime, end: datetime) -> dict[str, Any]:
    store = ExportStore(connection)
    figures: dict[str, Any] = {name: await store.counts_by(name, start, end) for name in sorted(DAILY)}
    figures["all"] = await store.referrals(start, end)
    for decision in ("declined", "redirected"):
        figures[decision] = await store.fired_rules(decision, start, end)
    figures["closures"] = await store.closures(start, end)
    figures["sessions"] = await store.sessions(start, end)
    groups = await store.outcome_counts(start, end)
    merged: dict[str, dict[tuple[int, int], int]] = {}
    for group in groups.values():
        for measure, pairs in group.items():
            for pair, people in pairs.items():
                merged.setdefault(measure, {})[pair] = merged.get(measure, {}).get(pair, 0) + people
    figures["outcomes"] = outcomes_of_counts(merged, lonely_threshold=6)
    figures["outcomes_core20"] = outcomes_of_counts(groups.get("core20", {}), lonely_threshold=6)
    known = [groups.get(group, {}).get("cases", {}).get((0, 0), 0) for group in ("core20", "other")]
    figures["people_known"] = sum(known)
    return figures


async def assert_exports_agree(connection: asyncpg.Connection, now: datetime) -> None:
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    for start, end in ((today - timedelta(days=30), today + timedelta(days=1)), (today - timedelta(days=800), today)):
        by_scan, by_day = await exported_by_scan(connection, start, end), await exported_by_day(connection, start, end)
        assert by_day == by_scan
        assert by_scan["all"] > 0


async def tallied(connection: asyncpg.Connection) -> dict[str, Any]:
    projection, cases = ProjectionStore(connection), CaseStore(connection)
    scores = await cases.score_pairs()
    notifications = await projection.notification_totals()
    sessions = await cases.sessions_of_closed_cases()
    return {
        "totals": tuple(await projection.referral_totals()),
        "status": await projection.counts_by("status"),
        "decision": await projection.counts_by("decision"),
        "notifications": (notifications["sent"], notifications["failed"]),
        "referrers": [tuple(row) for row in await projection.counts_by_referrer(20)],
        "closures": await cases.closure_reasons(),
        "sessions": (sessions["total"], sessions["closed_cases"]),
        "scores": {m: (scores[f"{m}_n"], scores[f"{m}_baseline"], scores[f"{m}_closing"]) for m in SCORED_MEASURES},
        "loneliness": tuple(await cases.loneliness_pairs()),
    }


def rounded(figures: dict[str, Any]) -> dict[str, Any]:
    """Means to 9 places: avg() and a sum divided by n agree there, not in numeric's last digit."""
    scores = {
        m: (n, b if b is None else round(b, 9), c if c is None else round(c, 9))
        for m, (n, b, c) in figures["scores"].items()
    }
    return {**figures, "scores": scores}


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, 4)
    await db.apply_migrations(pool, MIGRATIONS)
    yield pool
    await pool.close()


async def test_tallies_equal_a_scan_of_a_filled_projection_and_stay_equal_as_it_changes(pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as connection:
        await fill(connection, 3000, now=now)
        before = await scanned(connection)
        assert before["totals"][0] == 3000
        assert before["scores"]["ucla3_total"][0] > 0
        assert rounded(await tallied(connection)) == rounded(before)
        await assert_exports_agree(connection, now)

        ids = [row["referral_id"] for row in await connection.fetch("SELECT referral_id FROM referral_facts LIMIT 40")]
        async with connection.transaction():
            projection, cases = ProjectionStore(connection), CaseStore(connection)
            # A late receipt for a referral first known from triage, then triaged and declined.
            await projection.upsert_referral_fields("late-1", {"decided_at": now, "outcome": "declined"})
            await projection.set_derived("late-1", Status.DECLINED, Decision.DECLINED)
            await projection.upsert_referral_fields("late-1", {"received_at": now, "referrer_ods_code": "Y10000"})
            # Closures, and a status moved on.
            for referral_id in ids[:10]:
                await projection.upsert_referral_fields(
                    referral_id, {"closed_at": now, "closure": "goals-met", "sessions_used": 4}
                )
                await projection.set_derived(referral_id, Status.CLOSED, Decision.ACCEPTED)
            await projection.set_derived(ids[10], Status.WITHDRAWN, Decision.ACCEPTED)
            # A closed case with both measures: its decile changes and it closes a day later.
            paired = await connection.fetchval(
                f"SELECT b.referral_id {_PAIRS} JOIN referral_facts f ON f.referral_id = b.referral_id"
                " WHERE f.closed_at IS NOT NULL LIMIT 1"
            )
            await projection.upsert_referral_fields(paired, {"imd_decile": 1, "closed_at": now - timedelta(days=3)})
            # A failed notification later sent (a replayed dead letter), and a new failure.
            failed = await connection.fetchval(
                "SELECT notification_id FROM notification_facts WHERE sent_at IS NULL LIMIT 1"
            )
            row = await connection.fetchrow("SELECT * FROM notification_facts WHERE notification_id = $1", failed)
            for notification_id, succeeded in ((failed, True), ("new-failure", False)):
                await projection.upsert_notification(
                    NotificationOutcome(
                        notification_id, row["referral_id"], "email", "referral.triaged.v1", now, 2, succeeded
                    )
                )
            # A stage recorded again (replacing a pair's answers), and a first closing for a baseline-only case.
            pair = await connection.fetchval(f"SELECT b.referral_id {_PAIRS} LIMIT 1")
            lone = await connection.fetchval(
                "SELECT referral_id FROM case_measures GROUP BY referral_id"
                " HAVING count(*) = 1 AND min(stage) = 'baseline' LIMIT 1"
            )
            later = now + timedelta(days=1)
            await cases.upsert_measures(Measures(pair, "closing", later, "again", 3, "never", 10, 10, 10, 0))
            await cases.upsert_measures(Measures(lone, "closing", later, "first", None, "occasionally", 7, None, 6, 2))
            # A rebuild's delete of one referral and its measures.
            await connection.execute("DELETE FROM referral_facts WHERE referral_id = $1", ids[20])
            await connection.execute("DELETE FROM case_measures WHERE referral_id = $1", pair)
        assert rounded(await tallied(connection)) == rounded(await scanned(connection))
        await assert_exports_agree(connection, now)


async def test_a_cases_two_stages_recorded_at_once_are_counted_as_a_pair(pool: asyncpg.Pool) -> None:
    """Two first recordings of one case in concurrent transactions: each trigger must see the other's row."""
    now = datetime.now(UTC)
    baseline = Measures("both-at-once", "baseline", now, "b", 8, "often-always", 3, 4, 5, 6)
    closing = Measures("both-at-once", "closing", now, "c", 5, "hardly-ever", 7, 7, 7, 3)
    async with pool.acquire() as first, pool.acquire() as second:
        one = first.transaction()
        await one.start()
        await CaseStore(first).upsert_measures(baseline)
        two = second.transaction()
        await two.start()
        recording = asyncio.create_task(CaseStore(second).upsert_measures(closing))
        await asyncio.sleep(0.3)  # the second now waits for the first, or (without the lock) has missed it
        await one.commit()
        await recording
        await two.commit()
        row = await CaseStore(first).score_pairs()
        assert row["ucla3_total_n"] == 1
        assert (row["ucla3_total_baseline"], row["ucla3_total_closing"]) == (8, 5)
        assert (await CaseStore(first).loneliness_pairs())["less_often"] == 1


async def test_the_migrations_order_of_ons_answers_is_the_vocabularys(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        for position, answer in enumerate(get_args(OnsLoneliness), start=1):
            assert await connection.fetchval("SELECT ons_loneliness_rank($1)", answer) == position


async def test_the_migration_builds_the_same_totals_onto_a_projection_already_filled(database_url: str) -> None:
    """Deploying 0006 onto an existing projection: its one-off build must agree with the scans as well."""
    now = datetime.now(UTC)
    pool = await db.create_pool(database_url, 4)
    try:
        await fill_then_migrate(pool, MIGRATIONS, 3000, now=now)
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT count(*) FROM measure_pairs_counted") > 0
            assert rounded(await tallied(connection)) == rounded(await scanned(connection))
            await assert_exports_agree(connection, now)
    finally:
        await pool.close()
