"""Use cases: apply one fact to the projection; summarise the projection."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from reporting.adapters import store
from reporting.domain.facts import NotificationOutcome, ReferralFact
from reporting.domain.status import Status, StatusFacts, derive_decision, derive_status
from reporting.domain.summary import ReferrerCounts, Summary, zero_filled_decisions, zero_filled_statuses


async def record_referral_fact(conn: asyncpg.Connection, fact: ReferralFact) -> Status:
    """Write the fact's own fields, then re-derive status and decision from every fact now known."""
    row = await store.upsert_referral_fields(conn, fact.referral_id, fact.fields())
    facts = StatusFacts.from_fields(dict(row))
    status = derive_status(facts)
    await store.set_derived(conn, fact.referral_id, status, derive_decision(facts))
    return status


async def record_notification(conn: asyncpg.Connection, outcome: NotificationOutcome) -> None:
    await store.upsert_notification(conn, outcome)


async def summarise(pool: asyncpg.Pool, *, top_referrers: int) -> Summary:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        # One snapshot for every query, so the totals and their breakdowns always add up.
        totals = await store.referral_totals(conn)
        by_status = await store.counts_by(conn, "status")
        by_decision = await store.counts_by(conn, "decision")
        notifications = await store.notification_totals(conn)
        referrers = await store.counts_by_referrer(conn, top_referrers)
    return Summary(
        generated_at=datetime.now(UTC),
        total_referrals=totals["total"],
        awaiting_receipt=totals["awaiting_receipt"],
        by_status=zero_filled_statuses(by_status),
        by_decision=zero_filled_decisions(by_decision),
        notifications_sent=notifications["sent"],
        notifications_failed=notifications["failed"],
        by_referrer=[ReferrerCounts(r["ods_code"], r["referrals"], r["declined"]) for r in referrers],
    )
