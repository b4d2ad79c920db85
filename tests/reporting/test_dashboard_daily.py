"""The dashboard's daily counts (migration 0008) always equal a count of the referrals they replaced.

The dashboard sums `dashboard_daily` rows over the period's days instead of counting the period's referrals
and joining their notifications. These tests fill a projection with the bench's generator, change it the
ways events do (a late receipt, a receipt moved to another day and area, statuses moving on, notifications
failing and later sent, a rebuild's delete), and compare every figure read from the daily rows, with and
without each filter, with the scan it replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from reporting.adapters.export_store import in_period
from reporting.adapters.store import ProjectionStore
from reporting.domain.dashboard import Filters, daily_arrivals
from reporting.domain.facts import NotificationOutcome
from reporting.domain.status import Decision, Status
from reporting.service import dashboard
from reporting.unit import ReportingUnit
from signpost_devstack.bench_reporting.fill import fill, fill_then_migrate
from signpost_runtime import db

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "reporting" / "migrations"
_SCOPE = in_period("f")
FILTERS = (Filters(), Filters(area="LS6"), Filters(route="fhir-rest"), Filters(referrer_kind="gp"))


async def scanned(connection: asyncpg.Connection, start: date, end: date, filters: Filters) -> dict[str, Any]:
    """The figures now summed from the daily rows, counted from the referrals as the dashboard used to."""
    args = (datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC))
    args += filters.sql_args()
    funnel = await connection.fetchrow(
        "SELECT count(*) AS received, count(*) FILTER (WHERE f.decision IS NOT NULL) AS triaged,"
        " count(*) FILTER (WHERE f.assigned_at IS NOT NULL OR f.waitlisted_at IS NOT NULL) AS assigned_or_waiting,"
        " count(*) FILTER (WHERE f.assigned_at IS NOT NULL) AS assigned,"
        " count(*) FILTER (WHERE f.status = 'waitlisted') AS waiting,"
        " count(*) FILTER (WHERE f.first_reached_at IS NOT NULL) AS first_contact,"
        " count(*) FILTER (WHERE f.closed_at IS NOT NULL) AS closed,"
        " count(*) FILTER (WHERE f.status = 'assigned') AS open,"
        " count(*) FILTER (WHERE f.status = 'assigned' AND f.unreachable_at IS NOT NULL) AS could_not_contact"
        f" FROM referral_facts f WHERE {_SCOPE}",
        *args,
    )
    decisions = dict(
        await connection.fetch(
            f"SELECT coalesce(f.decision, 'undecided'), count(*) FROM referral_facts f WHERE {_SCOPE} GROUP BY 1",
            *args,
        )
    )
    arrivals = await connection.fetch(
        "SELECT (f.received_at AT TIME ZONE 'UTC')::date AS day, coalesce(f.channel, 'unknown') AS route,"
        f" count(*) AS referrals FROM referral_facts f WHERE {_SCOPE} GROUP BY 1, 2",
        *args,
    )
    notifications = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE n.sent_at IS NOT NULL) AS sent,"
        " count(*) FILTER (WHERE n.sent_at IS NULL AND n.failed_at IS NOT NULL) AS failed"
        f" FROM notification_facts n JOIN referral_facts f ON f.referral_id = n.referral_id WHERE {_SCOPE}",
        *args,
    )
    funnel = dict(funnel)
    flags = {"open": funnel.pop("open"), "could_not_contact": funnel.pop("could_not_contact")}
    return {
        "funnel": funnel,
        "decisions": {name: decisions.get(name, 0) for name in ("accepted", "declined", "redirected", "undecided")},
        "arrivals": daily_arrivals(start, end, arrivals),
        "flags": flags,
        "notifications": tuple(notifications),
    }


async def summed(connection: asyncpg.Connection, start: date, end: date, filters: Filters) -> dict[str, Any]:
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        figures = await dashboard(ReportingUnit(connection), start, end, filters, now=datetime.now(UTC))
    return {
        "funnel": vars(figures.funnel),
        "decisions": figures.decisions,
        "arrivals": (figures.routes, figures.arrivals),
        "flags": {"open": figures.cases.open, "could_not_contact": figures.cases.could_not_contact},
        "notifications": (figures.notifications_sent, figures.notifications_failed),
    }


async def assert_dashboard_agrees(connection: asyncpg.Connection, now: datetime) -> None:
    today = now.date()
    for start, end in ((today - timedelta(days=27), today), (today - timedelta(days=400), today - timedelta(days=35))):
        for filters in FILTERS:
            by_scan = await scanned(connection, start, end, filters)
            assert await summed(connection, start, end, filters) == by_scan, filters
            assert by_scan["funnel"]["received"] > 0
            assert by_scan["notifications"][0] > 0


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, 4)
    await db.apply_migrations(pool, MIGRATIONS)
    yield pool
    await pool.close()


async def test_the_daily_rows_equal_a_scan_of_a_filled_projection_and_stay_equal_as_it_changes(
    pool: asyncpg.Pool,
) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as connection:
        await fill(connection, 3000, now=now)
        await assert_dashboard_agrees(connection, now)
        recent = [
            row["referral_id"]
            for row in await connection.fetch(
                "SELECT referral_id FROM referral_facts WHERE received_at > $1 ORDER BY referral_id LIMIT 40",
                now - timedelta(days=20),
            )
        ]
        async with connection.transaction():
            projection = ProjectionStore(connection)
            # Known first from triage and a notification, received later (out of order).
            await projection.upsert_referral_fields("late-1", {"decided_at": now, "outcome": "declined"})
            await projection.set_derived("late-1", Status.DECLINED, Decision.DECLINED)
            await projection.upsert_notification(
                NotificationOutcome("late-1-n", "late-1", "email", "referral.triaged.v1", now, 1, True)
            )
            await projection.upsert_referral_fields(
                "late-1",
                {"received_at": now, "postcode_district": "LS6", "channel": "fhir-rest", "referrer_kind": "gp"},
            )
            # A receipt corrected to another day and area: its notifications move with it.
            await projection.upsert_referral_fields(
                recent[0], {"received_at": now - timedelta(days=3), "postcode_district": "LS6"}
            )
            # Statuses moving on: closed, withdrawn, waiting, could not contact.
            for referral_id in recent[1:6]:
                await projection.upsert_referral_fields(
                    referral_id, {"closed_at": now, "closure": "goals-met", "sessions_used": 4}
                )
                await projection.set_derived(referral_id, Status.CLOSED, Decision.ACCEPTED)
            await projection.set_derived(recent[6], Status.WITHDRAWN, Decision.ACCEPTED)
            await projection.upsert_referral_fields(recent[7], {"waitlisted_at": now})
            await projection.set_derived(recent[7], Status.WAITLISTED, Decision.ACCEPTED)
            await projection.upsert_referral_fields(recent[8], {"unreachable_at": now})
            # A failed notification later sent (a replayed dead letter), the same outcome again, and a new failure.
            failed = await connection.fetchrow("SELECT * FROM notification_facts WHERE sent_at IS NULL LIMIT 1")
            for notification_id, succeeded in ((failed["notification_id"], True),) * 2 + (("new-failure", False),):
                await projection.upsert_notification(
                    NotificationOutcome(
                        notification_id, failed["referral_id"], "email", "referral.triaged.v1", now, 2, succeeded
                    )
                )
            # A rebuild's delete of one referral (its notifications stay, no longer counted in any period).
            await connection.execute("DELETE FROM referral_facts WHERE referral_id = $1", recent[9])
        await assert_dashboard_agrees(connection, now)


async def test_a_notification_recorded_while_its_receipt_is_applied_is_counted_once(pool: asyncpg.Pool) -> None:
    """The receipt and a notification in concurrent transactions: whichever commits first, the other must see it."""
    now = datetime.now(UTC)
    receipt = {"received_at": now, "postcode_district": "LS6", "channel": "fhir-rest", "referrer_kind": "gp"}
    sent = NotificationOutcome("racing-n", "racing", "email", "referral.triaged.v1", now, 1, True)
    async with pool.acquire() as first, pool.acquire() as second:
        await ProjectionStore(first).upsert_referral_fields("racing", {"decided_at": now, "outcome": "accepted"})
        one = first.transaction()
        await one.start()
        await ProjectionStore(first).upsert_referral_fields("racing", receipt)
        two = second.transaction()
        await two.start()
        recording = asyncio.create_task(ProjectionStore(second).upsert_notification(sent))
        await asyncio.sleep(0.3)  # the notification now waits for the receipt, or (without the lock) has missed it
        await one.commit()
        await recording
        await two.commit()
        figures = await summed(first, now.date(), now.date(), Filters(area="LS6"))
        assert figures["funnel"]["received"] == 1
        assert figures["notifications"] == (1, 0)


async def test_the_migration_builds_the_same_daily_rows_onto_a_projection_already_filled(database_url: str) -> None:
    now = datetime.now(UTC)
    pool = await db.create_pool(database_url, 4)
    try:
        await fill_then_migrate(pool, MIGRATIONS, 3000, now=now)
        async with pool.acquire() as connection:
            await assert_dashboard_agrees(connection, now)
    finally:
        await pool.close()
