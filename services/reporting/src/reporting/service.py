"""Use cases: apply one fact to the projection; summarise the projection."""

from __future__ import annotations

from datetime import UTC, datetime

from reporting.domain.facts import NotificationOutcome, ReferralFact
from reporting.domain.status import Status, StatusFacts, derive_decision, derive_status
from reporting.domain.summary import ReferrerCounts, Summary, zero_filled_decisions, zero_filled_statuses
from reporting.unit import ReportingUnit


async def record_referral_fact(unit: ReportingUnit, fact: ReferralFact) -> Status:
    """Write the fact's own fields, then re-derive status and decision from every fact now known."""
    row = await unit.projection.upsert_referral_fields(fact.referral_id, fact.fields())
    facts = StatusFacts.from_fields(dict(row))
    status = derive_status(facts)
    await unit.projection.set_derived(fact.referral_id, status, derive_decision(facts))
    return status


async def record_notification(unit: ReportingUnit, outcome: NotificationOutcome) -> None:
    await unit.projection.upsert_notification(outcome)


async def summarise(unit: ReportingUnit, *, top_referrers: int) -> Summary:
    """The counts, from one unit opened with a repeatable-read snapshot so totals and breakdowns add up."""
    projection = unit.projection
    totals = await projection.referral_totals()
    by_status = await projection.counts_by("status")
    by_decision = await projection.counts_by("decision")
    notifications = await projection.notification_totals()
    referrers = await projection.counts_by_referrer(top_referrers)
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
