"""One referrer's feedback from migration 0010's daily rows equals a count of its referrals and closed cases.

Filled with the bench's generator, then changed the ways events do (a late receipt, a decline with two rules,
statuses moving on, a closure without a reason, a case's referrer corrected, a closing measure recorded
again, a rebuild's delete); the busiest referrer and a quiet one, over a month and two years.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from reporting.adapters.case_store import CaseStore
from reporting.adapters.export_store import ExportStore
from reporting.adapters.feedback_store import FeedbackStore
from reporting.adapters.store import ProjectionStore
from reporting.domain.facts import Measures
from reporting.domain.outcomes import pair_counts
from reporting.domain.status import Decision, Status
from signpost_devstack.bench_reporting.fill import busiest_referrer, fill, fill_then_migrate, ods_codes
from signpost_runtime import db

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "reporting" / "migrations"
_IN = "received_at >= $2 AND received_at < $3 AND referrer_ods_code = $1"


async def scanned(connection: asyncpg.Connection, ods: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The feedback counted from the referrals, as reporting did before the daily rows."""
    standing = await connection.fetchrow(
        "SELECT count(*) AS sent, count(*) FILTER (WHERE decision = 'accepted') AS accepted,"
        " count(*) FILTER (WHERE decision = 'declined') AS declined,"
        " count(*) FILTER (WHERE decision = 'redirected') AS redirected,"
        " count(*) FILTER (WHERE status = 'waitlisted') AS waiting,"
        " count(*) FILTER (WHERE status = 'assigned') AS in_support,"
        " count(*) FILTER (WHERE status = 'closed') AS closed,"
        f" count(*) FILTER (WHERE status = 'awaiting-triage') AS awaiting_triage FROM referral_facts WHERE {_IN}",
        ods,
        start,
        end,
    )
    figures: dict[str, Any] = {"standing": dict(standing)}
    for decision in ("declined", "redirected"):
        rows = await connection.fetch(
            "SELECT rule, count(DISTINCT referral_id) FROM referral_facts, unnest(fired_rules) AS rule"
            f" WHERE {_IN} AND decision = $4 GROUP BY rule",
            ods,
            start,
            end,
            decision,
        )
        figures[decision] = dict(rows)
    figures["closure"] = dict(
        await connection.fetch(
            f"SELECT closure, count(*) FROM referral_facts WHERE {_IN} AND closed_at IS NOT NULL GROUP BY closure",
            ods,
            start,
            end,
        )
    )
    rows = await ExportStore(connection).measure_pairs(start, end, referrer_ods_code=ods)
    figures["ucla3"] = pair_counts(rows)["ucla3_total"]
    return figures


async def summed(connection: asyncpg.Connection, ods: str, start: datetime, end: datetime) -> dict[str, Any]:
    store = FeedbackStore(connection, ods, start, end)
    figures: dict[str, Any] = {"standing": await store.standing()}
    for what in ("declined", "redirected", "closure"):
        figures[what] = await store.breakdown(what)
    figures["ucla3"] = await store.ucla3_pairs()
    return figures


async def assert_feedback_agrees(connection: asyncpg.Connection, now: datetime) -> None:
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    periods = ((today - timedelta(days=30), today + timedelta(days=1)), (today - timedelta(days=800), today))
    for ods in (busiest_referrer(), ods_codes()[-1]):
        for start, end in periods:
            assert await summed(connection, ods, start, end) == await scanned(connection, ods, start, end), ods
    busiest = await scanned(connection, busiest_referrer(), *periods[1])
    assert busiest["standing"]["sent"] > 0
    assert busiest["declined"]
    assert busiest["closure"]
    assert busiest["ucla3"]


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, 4)
    await db.apply_migrations(pool, MIGRATIONS)
    yield pool
    await pool.close()


async def test_feedback_from_the_daily_rows_equals_a_scan_and_stays_equal_as_the_projection_changes(
    pool: asyncpg.Pool,
) -> None:
    now = datetime.now(UTC)
    ods = busiest_referrer()
    async with pool.acquire() as connection:
        await fill(connection, 3000, now=now)
        await assert_feedback_agrees(connection, now)
        mine = [
            row["referral_id"]
            for row in await connection.fetch(
                "SELECT referral_id FROM referral_facts WHERE referrer_ods_code = $1 AND status = 'assigned'"
                " ORDER BY referral_id LIMIT 6",
                ods,
            )
        ]
        paired = await connection.fetchval(
            "SELECT f.referral_id FROM referral_facts f JOIN case_measures c ON c.referral_id = f.referral_id"
            " AND c.stage = 'closing' WHERE f.referrer_ods_code = $1 AND f.closed_at IS NOT NULL LIMIT 1",
            ods,
        )
        async with connection.transaction():
            projection = ProjectionStore(connection)
            # Declined first (two rules), received later: out of order.
            await projection.upsert_referral_fields(
                "late-1", {"decided_at": now, "outcome": "declined", "fired_rules": ["not-in-cohort", "age-unknown"]}
            )
            await projection.set_derived("late-1", Status.DECLINED, Decision.DECLINED)
            await projection.upsert_referral_fields("late-1", {"received_at": now, "referrer_ods_code": ods})
            for referral_id in mine[:2]:
                await projection.upsert_referral_fields(
                    referral_id, {"closed_at": now, "closure": "goals-met", "sessions_used": 3}
                )
                await projection.set_derived(referral_id, Status.CLOSED, Decision.ACCEPTED)
            await projection.upsert_referral_fields(mine[2], {"closed_at": now, "sessions_used": 1})
            await projection.set_derived(mine[2], Status.CLOSED, Decision.ACCEPTED)
            await projection.set_derived(mine[3], Status.WITHDRAWN, Decision.ACCEPTED)
            # A closed, measured case's referrer corrected, and its closing recorded again.
            await projection.upsert_referral_fields(paired, {"referrer_ods_code": ods_codes()[-1]})
            later = now + timedelta(days=1)
            await CaseStore(connection).upsert_measures(
                Measures(paired, "closing", later, "again", 3, "never", 10, 10, 10, 0)
            )
            await connection.execute("DELETE FROM referral_facts WHERE referral_id = $1", mine[4])
        await assert_feedback_agrees(connection, now)


async def test_the_migration_builds_the_same_feedback_rows_onto_a_projection_already_filled(
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    pool = await db.create_pool(database_url, 4)
    try:
        await fill_then_migrate(pool, MIGRATIONS, 3000, now=now)
        async with pool.acquire() as connection:
            await assert_feedback_agrees(connection, now)
    finally:
        await pool.close()
