"""The waits read through migration 0009's buckets equal percentile_cont over every wait, to the last bit.

Filled with the bench's generator, then changed the ways events do (a late receipt, an assignment and a first
contact arriving, a receipt corrected to another day, a wait made negative by disagreeing clocks, a rebuild's
delete); periods short and long, and one with a single wait and one with none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from reporting.adapters.export_store import days
from reporting.adapters.store import ProjectionStore
from reporting.adapters.waits import BucketedWaits
from signpost_devstack.bench_reporting.fill import fill, fill_then_migrate
from signpost_runtime import db

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "reporting" / "migrations"
_WAITS = {
    "received_to_assigned": "assigned_at - received_at",
    "assigned_to_first_contact": "first_reached_at - assigned_at",
}


async def scanned(connection: asyncpg.Connection, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """The waits as the exports computed them before the buckets (percentile_cont over the period's referrals)."""
    figures = {}
    for name, interval in _WAITS.items():
        wait = f"extract(epoch FROM {interval}) / 86400.0"
        row = await connection.fetchrow(
            f"SELECT count({wait}) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY {wait}) AS median,"
            f" percentile_cont(0.9) WITHIN GROUP (ORDER BY {wait}) AS p90"
            " FROM referral_facts WHERE received_at >= $1 AND received_at < $2",
            start,
            end,
        )
        figures[name] = dict(row)
    return figures


async def assert_waits_agree(connection: asyncpg.Connection, now: datetime) -> None:
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    periods = [(today - timedelta(days=n), today + timedelta(days=1)) for n in (1, 7, 30, 365, 800)]
    periods.append((today + timedelta(days=400), today + timedelta(days=401)))  # no referral received
    for start, end in periods:
        assert await BucketedWaits(connection, (start, end), days(start, end)).figures() == await scanned(
            connection, start, end
        )
    year = await scanned(connection, today - timedelta(days=365), today)
    assert year["received_to_assigned"]["n"] > 100
    assert year["assigned_to_first_contact"]["n"] > 100


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, 4)
    await db.apply_migrations(pool, MIGRATIONS)
    yield pool
    await pool.close()


async def test_bucketed_waits_equal_percentile_cont_and_stay_equal_as_the_projection_changes(
    pool: asyncpg.Pool,
) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as connection:
        await fill(connection, 3000, now=now)
        await assert_waits_agree(connection, now)
        ids = [
            row["referral_id"]
            for row in await connection.fetch(
                "SELECT referral_id FROM referral_facts WHERE assigned_at IS NOT NULL ORDER BY referral_id LIMIT 10"
            )
        ]
        projection = ProjectionStore(connection)
        async with connection.transaction():
            # Assigned and reached first, received later (out of order), alone on its day in a year's time.
            alone = now + timedelta(days=500)
            await projection.upsert_referral_fields("late-1", {"assigned_at": alone + timedelta(hours=5)})
            await projection.upsert_referral_fields("late-1", {"first_reached_at": alone + timedelta(days=2)})
            await projection.upsert_referral_fields("late-1", {"received_at": alone})
            await projection.upsert_referral_fields(ids[0], {"received_at": now - timedelta(days=3)})
            await projection.upsert_referral_fields(ids[1], {"assigned_at": now - timedelta(days=900)})
            await projection.upsert_referral_fields(ids[2], {"first_reached_at": now})
            await connection.execute("DELETE FROM referral_facts WHERE referral_id = $1", ids[3])
        await assert_waits_agree(connection, now)
        start = datetime(alone.year, alone.month, alone.day, tzinfo=UTC)
        period = (start, start + timedelta(days=1))
        single = await BucketedWaits(connection, period, days(*period)).figures()
        assert single == await scanned(connection, *period)
        assert single["received_to_assigned"]["n"] == 1


async def test_the_migration_builds_the_same_buckets_onto_a_projection_already_filled(database_url: str) -> None:
    now = datetime.now(UTC)
    pool = await db.create_pool(database_url, 4)
    try:
        await fill_then_migrate(pool, MIGRATIONS, 3000, now=now)
        async with pool.acquire() as connection:
            await assert_waits_agree(connection, now)
    finally:
        await pool.close()
