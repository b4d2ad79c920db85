"""Use cases: apply one fact to the projection; summarise the projection; the dashboard for a period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from reporting.adapters.dashboard_store import DashboardStore
from reporting.adapters.export_store import ExportStore
from reporting.domain.cases import (
    SCORED_MEASURES,
    CaseSummary,
    LonelinessChange,
    score_change,
    sessions_used,
    zero_filled_reasons,
)
from reporting.domain.dashboard import (
    AreaWaitlist,
    CaseFlags,
    Dashboard,
    Filters,
    daily_arrivals,
    daily_totals,
    decisions_of,
    funnel_of,
    referrer_declines,
)
from reporting.domain.export_report import Wait, days
from reporting.domain.facts import Measures, NotificationOutcome, ReferralFact
from reporting.domain.pipeline_health import service_health
from reporting.domain.status import Status, StatusFacts, derive_decision, derive_status
from reporting.domain.summary import (
    ReferrerCounts,
    Summary,
    UrgentCounts,
    zero_filled_decisions,
    zero_filled_statuses,
)
from reporting.unit import ReportingUnit
from signpost_contracts.events.notifications import UrgentSettled, UrgentUnconfirmed
from signpost_contracts.events.operations import PipelineHealth
from signpost_contracts.events.triage import RosterCaseloads


async def record_referral_fact(unit: ReportingUnit, fact: ReferralFact) -> Status:
    """Write the fact's own fields, then re-derive status and decision from every fact now known."""
    row = await unit.projection.upsert_referral_fields(fact.referral_id, fact.fields())
    facts = StatusFacts.from_fields(dict(row))
    status = derive_status(facts)
    await unit.projection.set_derived(fact.referral_id, status, derive_decision(facts))
    return status


async def record_notification(unit: ReportingUnit, outcome: NotificationOutcome) -> None:
    await unit.projection.upsert_notification(outcome)


async def record_urgent_unconfirmed(unit: ReportingUnit, event: UrgentUnconfirmed) -> None:
    await unit.projection.upsert_urgent_unconfirmed(event)


async def record_urgent_settled(unit: ReportingUnit, event: UrgentSettled) -> None:
    await unit.projection.settle_urgent(event)


async def record_pipeline_health(unit: ReportingUnit, health: PipelineHealth) -> None:
    await unit.pipeline_health.keep_if_newer(health)


async def record_caseloads(unit: ReportingUnit, caseloads: RosterCaseloads) -> None:
    await unit.caseloads.upsert(caseloads)


async def record_measures(unit: ReportingUnit, measures: Measures) -> None:
    await unit.cases.upsert_measures(measures)


async def summarise(unit: ReportingUnit, *, top_referrers: int) -> Summary:
    """The counts, from one unit opened with a repeatable-read snapshot so totals and breakdowns add up."""
    projection = unit.projection
    totals = await projection.referral_totals()
    by_status = await projection.counts_by("status")
    by_decision = await projection.counts_by("decision")
    notifications = await projection.notification_totals()
    referrers = await projection.counts_by_referrer(top_referrers)
    urgent = await projection.urgent_totals()
    statuses = zero_filled_statuses(by_status)
    return Summary(
        generated_at=datetime.now(UTC),
        total_referrals=totals["total"],
        awaiting_receipt=totals["awaiting_receipt"],
        by_status=statuses,
        by_decision=zero_filled_decisions(by_decision),
        notifications_sent=notifications["sent"],
        notifications_failed=notifications["failed"],
        by_referrer=[ReferrerCounts(r["ods_code"], r["referrals"], r["declined"]) for r in referrers],
        cases=await _case_summary(unit, statuses),
        urgent=UrgentCounts(urgent["unconfirmed"], urgent["oldest_raised_at"], urgent["most_escalations"]),
    )


async def _case_summary(unit: ReportingUnit, statuses: Mapping[Status, int]) -> CaseSummary:
    """In the caller's snapshot, so the case counts agree with the statuses beside them."""
    sessions = await unit.cases.sessions_of_closed_cases()
    scores = await unit.cases.score_pairs()
    lonely = await unit.cases.loneliness_pairs()
    return CaseSummary(
        open=statuses[Status.ASSIGNED],
        waiting=statuses[Status.WAITLISTED],
        closed=statuses[Status.CLOSED],
        withdrawn=statuses[Status.WITHDRAWN],
        linked=statuses[Status.LINKED],
        closure_reasons=zero_filled_reasons(await unit.cases.closure_reasons()),
        sessions=sessions_used(sessions["total"], sessions["closed_cases"]),
        scores={
            m: score_change(scores[f"{m}_n"], scores[f"{m}_baseline"], scores[f"{m}_closing"]) for m in SCORED_MEASURES
        },
        ons_loneliness=LonelinessChange(lonely["n"], lonely["less_often"], lonely["same"], lonely["more_often"]),
    )


async def dashboard(unit: ReportingUnit, start: date, end: date, filters: Filters, *, now: datetime) -> Dashboard:
    """The dashboard's views for referrals received from `start` to `end` (both inclusive, UTC) matching
    `filters`, in the caller's repeatable-read snapshot so that the views agree with each other."""
    begin, until = datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC) + timedelta(days=1)
    exports, store = ExportStore(unit.connection, filters), DashboardStore(unit.connection, filters)
    daily = await store.daily(begin, until)
    totals = daily_totals(daily)
    routes, arrivals = daily_arrivals(start, end, daily)
    waits = {
        name: Wait(row["n"], days(row["median"]), days(row["p90"]))
        for name, row in (await exports.waits(begin, until)).items()
    }
    waitlist = [
        AreaWaitlist(row["area"], row["waiting"], row["oldest_waitlisted_at"], days(_age(now, row)) or 0.0)
        for row in await store.waitlist(begin, until)
    ]
    urgent = await store.urgent(begin, until)
    return Dashboard(
        generated_at=now,
        start=start,
        end=end,
        filters=filters,
        funnel=funnel_of(totals),
        routes=routes,
        arrivals=arrivals,
        decisions=decisions_of(totals),
        waits=waits,
        waitlist=waitlist,
        cases=CaseFlags(totals["open"], await store.stalled(begin, until, now), totals["open_unreachable"]),
        referrers=referrer_declines(
            await store.declines_by_referrer(begin, until), await store.decline_reasons_by_referrer(begin, until)
        ),
        urgent=UrgentCounts(urgent["unconfirmed"], urgent["oldest_raised_at"], urgent["most_escalations"]),
        notifications_sent=totals["notifications_sent"],
        notifications_failed=totals["notifications_failed"],
        last_event_applied_at=await store.last_event_applied_at(),
        caseloads=await unit.caseloads.current(),
        pipeline_health=service_health(await unit.pipeline_health.reports(), now),
    )


def _age(now: datetime, row: Mapping[str, datetime]) -> float:
    return (now - row["oldest_waitlisted_at"]).total_seconds() / 86400
